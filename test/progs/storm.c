// test/progs/storm.c
// Exec storm for benchmarks: P workers each vfork+exec a binary N times with a unique marker argument.
// Usage: storm -p WORKERS -n EXECS_PER_WORKER -e BINARY [-t TAG] [-a PAD_BYTES]; prints "execs=<n> seconds=<s>".
// -a adds a second argument of PAD_BYTES bytes to every exec (large records); -r paces each worker to RATE execs/s.
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char *pad;
static long pace_us;

static void worker(int id, int n, const char *bin, const char *tag) {
  char marker[96];
  char *args[] = {(char *)bin, marker, pad, NULL};
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_USEVFORK);
  for (int i = 0; i < n; i++) {
    snprintf(marker, sizeof(marker), "%s-%d-%d", tag, id, i);
    pid_t pid;
    if (posix_spawn(&pid, bin, NULL, &attr, args, environ) != 0) {
      perror("posix_spawn");
      exit(1);
    }
    int status;
    waitpid(pid, &status, 0);
    if (pace_us > 0) usleep((useconds_t)pace_us);
  }
}

int main(int argc, char **argv) {
  int p = 2, n = 1000;
  const char *bin = "/bin/true";
  const char *tag = "storm";
  int opt;
  while ((opt = getopt(argc, argv, "p:n:e:t:a:r:")) != -1) {
    if (opt == 'p') p = atoi(optarg);
    else if (opt == 'n') n = atoi(optarg);
    else if (opt == 'e') bin = optarg;
    else if (opt == 't') tag = optarg;
    else if (opt == 'r') pace_us = 1000000L / atol(optarg);
    else if (opt == 'a') {
      size_t len = (size_t)atol(optarg);
      pad = malloc(len + 1);
      memset(pad, 'p', len);
      pad[len] = 0;
    }
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int w = 0; w < p; w++) {
    if (fork() == 0) {
      worker(w, n, bin, tag);
      _exit(0);
    }
  }
  int failed = 0, status;
  while (wait(&status) > 0) failed |= !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("execs=%d seconds=%.6f\n", p * n, s);
  return failed;
}
