// test/progs/memfd-exec.c
// Copies a binary into a memfd and executes it with fexecve (no path on any filesystem).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int src = open(argv[1], O_RDONLY);
  struct stat st;
  if (src < 0 || fstat(src, &st) != 0) return 3;
  int mfd = memfd_create("execscope-test", MFD_CLOEXEC);
  if (mfd < 0) return 4;
  off_t off = 0;
  while (off < st.st_size) {
    if (sendfile(mfd, src, &off, (size_t)(st.st_size - off)) <= 0) return 5;
  }
  extern char **environ;
  fexecve(mfd, argv + 1, environ);
  perror("fexecve");
  return 6;
}
