// test/progs/tiny.c
// The smallest static program: exits 0 at once (the hardest exec storm: no dynamic loader).
#include <unistd.h>
#include <sys/syscall.h>

void _start(void) {
  __asm__ volatile("mov $60, %%eax\n xor %%edi, %%edi\n syscall" ::: "rax", "rdi");
  for (;;) {}
}
