// test/progs/many-threads.c
// Starts N threads (small stacks), waits until all run, then a non-leader thread exits the process or execs.
// Usage: many-threads N exit CODE [marker…] | many-threads N exec BINARY [ARG…]; exits 99 if a thread cannot start.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int running;
static int wanted;
static char **exec_argv;
static int exit_code;

static void *idle(void *arg) {
  (void)arg;
  atomic_fetch_add(&running, 1);
  for (;;) pause();
  return NULL;
}

static void *finisher(void *arg) {
  (void)arg;
  while (atomic_load(&running) < wanted) usleep(1000);
  if (exec_argv != NULL) {
    execv(exec_argv[0], exec_argv);
    _exit(127);
  }
  exit(exit_code);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  wanted = atoi(argv[1]);
  if (strcmp(argv[2], "exec") == 0) exec_argv = argv + 3;
  else exit_code = atoi(argv[3]);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // 64 KiB stacks: 10,000 threads in 640 MiB of address space rather than 80 GiB.
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t t;
  for (int i = 0; i < wanted; i++) {
    int err = pthread_create(&t, &attr, idle, NULL);
    if (err != 0) {
      fprintf(stderr, "many-threads: thread %d: %s\n", i, strerror(err));
      _exit(99);
    }
  }
  pthread_create(&t, &attr, finisher, NULL);
  pthread_exit(NULL); /* the leader leaves first, as in threads-exit */
}
