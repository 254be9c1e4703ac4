// A stand-in for busybox's nmeter applet, which Debian's busybox lacks and Kubernetes'
// node e2e suite uses only to read the clock with milliseconds: its container-lifecycle
// pods stamp each line with `date -u +%FT$(nmeter -d0 '%3t' | head -n1)Z`.
//
//   nmeter [-d MSEC] FORMAT
//
// FORMAT is copied with each `%[N]t` replaced by the UTC time of day as HH:MM:SS and N
// (0-6) fractional digits, and `%%` by `%`; other busybox meters (CPU, memory, ...) are
// refused. A line is printed every MSEC milliseconds (0: back to back; -1: once) until
// the reader goes away, as busybox's does.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sys/time.h>
#include <ctime>
#include <unistd.h>

static int print_line(const char* format) {
  struct timeval now;
  gettimeofday(&now, nullptr);
  struct tm utc;
  gmtime_r(&now.tv_sec, &utc);
  for (const char* p = format; *p != '\0'; ++p) {
    if (*p != '%') {
      putchar(*p);
      continue;
    }
    ++p;
    if (*p == '%') {
      putchar('%');
      continue;
    }
    int digits = 0;
    if (*p >= '0' && *p <= '9') digits = *p++ - '0';
    if (*p != 't' || digits > 6) {
      fprintf(stderr, "nmeter: only %%[0-6]t is supported in this stand-in\n");
      exit(2);
    }
    printf("%02d:%02d:%02d", utc.tm_hour, utc.tm_min, utc.tm_sec);
    if (digits > 0) {
      long fraction = now.tv_usec;
      for (int i = digits; i < 6; ++i) fraction /= 10;
      printf(".%0*ld", digits, fraction);
    }
  }
  putchar('\n');
  return fflush(stdout) == 0 ? 0 : -1;
}

int main(int argc, char** argv) {
  long delay_ms = 1000;
  int opt;
  while ((opt = getopt(argc, argv, "d:")) != -1) {
    if (opt != 'd') return 2;
    char* end = nullptr;
    errno = 0;
    delay_ms = strtol(optarg, &end, 10);
    if (errno != 0 || *end != '\0' || delay_ms < -1) {
      fprintf(stderr, "nmeter: bad delay %s\n", optarg);
      return 2;
    }
  }
  if (optind + 1 != argc) {
    fprintf(stderr, "usage: nmeter [-d MSEC] FORMAT\n");
    return 2;
  }
  for (;;) {
    if (print_line(argv[optind]) != 0) return 0;  // the reader went away
    if (delay_ms < 0) return 0;
    if (delay_ms > 0) {
      struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
      nanosleep(&pause, nullptr);
    }
  }
}
