// test/progs/thread-exec.c
// A non-leader thread calls execve; the event must carry the thread group's pid.
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static char **target;

static void *run(void *arg) {
  (void)arg;
  execv(target[0], target);
  _exit(127);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  target = argv + 1;
  pthread_t t;
  pthread_create(&t, NULL, run, NULL);
  pthread_join(t, NULL);
  return 1;
}
