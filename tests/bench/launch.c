/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * launch [-c] N CMD_A... -- CMD_B...: times whole processes, N pairs of one
 * run of A and one of B, the order alternating (A first in even pairs),
 * after one untimed pair.  Each run is a fork, an exec and a wait, with
 * stdin and stdout on /dev/null (stderr is kept).  Prints one line a pair,
 * "US_A US_B", the wall times in microseconds (with -c, the CPU time, user
 * and system, that the kernel counted for the process: less moved by other
 * processes on a busy machine); exits 1 when a run fails.  No shell sits
 * between the clock and the program, so a fixed cost added to both sides
 * does not pull their ratio towards 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "launch: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		die("clock_gettime");
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double us_of(struct timeval tv)
{
	return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

/* Runs argv once with stdin and stdout on null; its wall (or CPU) time in microseconds. */
static double run(char *const *argv, int null, int cpu)
{
	double t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (dup2(null, 0) < 0 || dup2(null, 1) < 0)
			_exit(127);
		execv(argv[0], argv);
		fprintf(stderr, "launch: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4");
	double t1 = now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "launch: %s failed (status 0x%x)\n", argv[0], (unsigned)status);
		exit(1);
	}
	return cpu ? us_of(ru.ru_utime) + us_of(ru.ru_stime) : t1 - t0;
}

int main(int argc, char **argv)
{
	int cpu = argc > 1 && strcmp(argv[1], "-c") == 0;
	argc -= cpu;
	argv += cpu;
	if (argc < 5) {
		fprintf(stderr, "usage: launch [-c] N CMD_A [ARG...] -- CMD_B [ARG...]  (commands as paths)\n");
		return 2;
	}
	char *end;
	long n = strtol(argv[1], &end, 10);
	if (*end || n < 1) {
		fprintf(stderr, "launch: N must be a positive number\n");
		return 2;
	}
	char **a = argv + 2, **b = NULL;
	for (char **p = a; *p; p++)
		if (strcmp(*p, "--") == 0) {
			*p = NULL;
			b = p + 1;
			break;
		}
	if (!b || !*a || !*b) {
		fprintf(stderr, "launch: expected CMD_A -- CMD_B\n");
		return 2;
	}
	int null = open("/dev/null", O_RDWR);
	if (null < 0)
		die("/dev/null");
	run(a, null, cpu);
	run(b, null, cpu);
	for (long i = 0; i < n; i++) {
		double ta, tb;
		if (i % 2 == 0) {
			ta = run(a, null, cpu);
			tb = run(b, null, cpu);
		} else {
			tb = run(b, null, cpu);
			ta = run(a, null, cpu);
		}
		printf("%.1f %.1f\n", ta, tb);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
