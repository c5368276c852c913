/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * launch: times whole processes, two commands against each other, from a
 * process that costs next to nothing to fork (a bash fork costs more than a
 * start of hostusb, and that fixed cost added to both sides pulls every ratio
 * towards 1).
 *
 *   launch [-c] [-n PAIRS] [-r RESET] [-s STATUS] [-f PRIORITY] [-a NAME=VALUE]...
 *          [-b NAME=VALUE]... [-o PAIRS_FILE] A... -- B...
 *
 * N pairs (default 150), the order alternating (A B, B A, ...); before each
 * run RESET is run by /bin/sh -c, untimed; each run is fork, exec, wait, timed
 * with CLOCK_MONOTONIC (with -c: the CPU time, user and system, the run
 * itself used, as wait4 reports it), its stdout and stderr on /dev/null.  Every run of A
 * must exit with STATUS (default 0), every run of B with 0; anything else
 * stops the bench.  Prints one line:
 *
 *   A_median_us B_median_us ratio_median ratio_p10 ratio_p90
 *
 * the ratio being A/B taken pair by pair; with -o, "a_us b_us" per pair too.
 * With -f, the launcher and the runs it times are at SCHED_FIFO PRIORITY (the
 * resets at the normal policy): on a machine busy with other work, the other
 * processes then do not preempt a timed run (root, or CAP_SYS_NICE).
 * The environment is passed on, with the -a settings for A, the -b ones for B.
 * A setting is made in the child, between fork and exec, inside the timed
 * run: the first grows the environment (a copy-on-write fault or two), which
 * here made a program timed against itself 1.06 x slower on the side with
 * one setting.  Give both sides as many settings, or none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "launch: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now_us(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
		die("clock_gettime");
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

#define MAX_SETTINGS 16
struct side {
	char **argv;
	char *env[MAX_SETTINGS]; /* NAME=VALUE, set in the child before the exec */
	size_t nenv;
	int want_status;
	int cpu_time; /* -c: time the run's CPU use, not the wall clock */
};

/* Runs a side with stdout and stderr on /dev/null; its wall time in us. */
static double run(const struct side *side)
{
	char *const *argv = side->argv;
	double t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		for (size_t i = 0; i < side->nenv; i++)
			if (putenv(side->env[i]) != 0)
				_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	int status;
	struct rusage use;
	while (wait4(pid, &status, 0, &use) < 0)
		if (errno != EINTR)
			die("wait4");
	double t1 = now_us();
	if (side->cpu_time)
		t1 = t0 + (double)(use.ru_utime.tv_sec + use.ru_stime.tv_sec) * 1e6 +
		     (double)(use.ru_utime.tv_usec + use.ru_stime.tv_usec);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != side->want_status) {
		fprintf(stderr, "launch: %s: %s %d, expected exit %d\n", argv[0],
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), side->want_status);
		exit(2);
	}
	return t1 - t0;
}

static void reset(const char *command)
{
	if (!command)
		return;
	char *argv[] = {"/bin/sh", "-c", (char *)command, NULL};
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		const struct sched_param normal = { .sched_priority = 0 };
		if (sched_setscheduler(0, SCHED_OTHER, &normal) != 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "launch: the reset command failed: %s\n", command);
		exit(2);
	}
}

static int compare_doubles(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* The q-quantile of sorted v[0, n): the nearest rank. */
static double quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i];
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, compare_doubles);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
	fprintf(stderr, "usage: launch [-c] [-n PAIRS] [-r RESET] [-s STATUS] [-f PRIORITY] [-a NAME=VALUE]...\n"
			"              [-b NAME=VALUE]... [-o FILE] A... -- B...\n");
	exit(2);
}

static void add_setting(struct side *side, char *setting)
{
	if (side->nenv == MAX_SETTINGS || !strchr(setting, '='))
		usage();
	side->env[side->nenv++] = setting;
}

int main(int argc, char **argv)
{
	long pairs = 150, want_status = 0, priority = 0;
	int cpu_time = 0;
	const char *reset_command = NULL, *out_path = NULL;
	struct side a = { 0 }, b = { 0 };
	int opt;
	while ((opt = getopt(argc, argv, "+cn:r:s:f:a:b:o:")) != -1) {
		switch (opt) {
		case 'c': cpu_time = 1; break;
		case 'n': pairs = strtol(optarg, NULL, 10); break;
		case 'r': reset_command = optarg; break;
		case 's': want_status = strtol(optarg, NULL, 10); break;
		case 'f': priority = strtol(optarg, NULL, 10); break;
		case 'a': add_setting(&a, optarg); break;
		case 'b': add_setting(&b, optarg); break;
		case 'o': out_path = optarg; break;
		default: usage();
		}
	}
	a.argv = argv + optind;
	for (char **p = a.argv; *p; p++)
		if (strcmp(*p, "--") == 0) {
			*p = NULL;
			b.argv = p + 1;
			break;
		}
	if (pairs < 1 || pairs > 1000000 || want_status < 0 || want_status > 255 || priority < 0 || priority > 99 ||
	    !b.argv || !*a.argv || !*b.argv)
		usage();
	if (priority > 0) {
		const struct sched_param fifo = { .sched_priority = (int)priority };
		if (sched_setscheduler(0, SCHED_FIFO, &fifo) != 0)
			die("sched_setscheduler SCHED_FIFO");
	}
	a.want_status = (int)want_status;
	a.cpu_time = b.cpu_time = cpu_time;

	size_t n = (size_t)pairs;
	double *ta = calloc(n, sizeof *ta), *tb = calloc(n, sizeof *tb), *ratio = calloc(n, sizeof *ratio);
	if (!ta || !tb || !ratio)
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		if (i % 2 == 0) {
			reset(reset_command);
			ta[i] = run(&a);
			reset(reset_command);
			tb[i] = run(&b);
		} else {
			reset(reset_command);
			tb[i] = run(&b);
			reset(reset_command);
			ta[i] = run(&a);
		}
		ratio[i] = ta[i] / tb[i];
	}
	if (out_path) {
		FILE *out = fopen(out_path, "w");
		if (!out)
			die(out_path);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%.1f %.1f\n", ta[i], tb[i]);
		if (fclose(out) != 0)
			die(out_path);
	}
	double ma = median(ta, n), mb = median(tb, n), mr = median(ratio, n);
	printf("%.1f %.1f %.4f %.4f %.4f\n", ma, mb, mr, quantile(ratio, n, 0.1), quantile(ratio, n, 0.9));
	return 0;
}
