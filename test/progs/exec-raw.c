// test/progs/exec-raw.c
// Execs a path and arguments given as hex, so they may hold any byte but NUL (invalid UTF-8, escapes, CR).
// Usage: exec-raw [-d HEXDIR] HEXPATH [HEXARG…]: chdir to HEXDIR if given, then execve(PATH, [PATH, ARG…]).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char *unhex(const char *hex) {
  size_t n = strlen(hex) / 2;
  char *out = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned int byte;
    if (sscanf(hex + 2 * i, "%2x", &byte) != 1 || byte == 0) {
      fprintf(stderr, "exec-raw: bad hex %s\n", hex);
      exit(2);
    }
    out[i] = (char)byte;
  }
  out[n] = 0;
  return out;
}

int main(int argc, char **argv) {
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "-d") == 0) {
    if (chdir(unhex(argv[2])) != 0) {
      perror("exec-raw: chdir");
      return 2;
    }
    first = 3;
  }
  if (first >= argc) return 2;
  char **args = calloc((size_t)(argc - first + 1), sizeof(char *));
  for (int i = first; i < argc; i++) args[i - first] = unhex(argv[i]);
  execve(args[0], args, environ);
  perror("exec-raw: execve");
  return 127;
}
