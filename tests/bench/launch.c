/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * launch N CMD_A... -- CMD_B...: times whole processes, N pairs of one run of
 * A and one of B, the order alternating (A first in even pairs), after one
 * untimed pair.  Each run is a fork, an exec and a wait, with stdin and
 * stdout on /dev/null (stderr is kept).  Prints one line a pair, "US_A US_B",
 * the wall times in microseconds; exits 1 when a run fails.  No shell sits
 * between the clock and the program, so a fixed cost added to both sides
 * does not pull their ratio towards 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Runs argv once with stdin and stdout on null; its wall time in microseconds. */
static double run(char *const *argv, int null)
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
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	double t1 = now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "launch: %s failed (status 0x%x)\n", argv[0], (unsigned)status);
		exit(1);
	}
	return t1 - t0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: launch N CMD_A [ARG...] -- CMD_B [ARG...]  (commands as paths)\n");
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
	run(a, null);
	run(b, null);
	for (long i = 0; i < n; i++) {
		double ta, tb;
		if (i % 2 == 0) {
			ta = run(a, null);
			tb = run(b, null);
		} else {
			tb = run(b, null);
			ta = run(a, null);
		}
		printf("%.1f %.1f\n", ta, tb);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
