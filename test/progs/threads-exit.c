// test/progs/threads-exit.c
// Starts N threads, then a non-leader thread calls exit(code): exactly one exit event must follow.
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int code;

static void *idle(void *arg) {
  (void)arg;
  pause();
  return NULL;
}

static void *finisher(void *arg) {
  (void)arg;
  usleep(50 * 1000);
  exit(code);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 50;
  code = argc > 2 ? atoi(argv[2]) : 0;
  pthread_t t;
  for (int i = 0; i < n; i++) pthread_create(&t, NULL, idle, NULL);
  pthread_create(&t, NULL, finisher, NULL);
  pthread_exit(NULL); /* the leader leaves first */
}
