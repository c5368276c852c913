/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_TESTS_CHECK_H
#define HOSTUSB_TESTS_CHECK_H
/*
 * Minimal unit-test helpers.  Every check prints one line, "PASS name" or
 * "FAIL name: detail"; tests/run counts them.  A test program returns
 * check_status() from main so a failure also shows in its exit code.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check_counts { unsigned passed, failed; };
static struct check_counts check_counts;

static inline int check_report(int ok, const char *name, const char *file, int line, const char *detail)
{
	if (ok) {
		check_counts.passed++;
		printf("PASS %s\n", name);
	} else {
		check_counts.failed++;
		printf("FAIL %s: %s:%d: %s\n", name, file, line, detail);
	}
	fflush(stdout);
	return ok;
}

/* CHECK(name, condition) */
#define CHECK(name, cond) check_report(!!(cond), (name), __FILE__, __LINE__, #cond)

/* CHECK_STR(name, got, want): string equality, prints both on failure */
#define CHECK_STR(name, got, want) do { \
	const char *check_got_ = (got), *check_want_ = (want); \
	int check_ok_ = check_got_ && check_want_ && strcmp(check_got_, check_want_) == 0; \
	if (check_ok_) { check_report(1, (name), __FILE__, __LINE__, ""); } else { \
		char check_detail_[1024]; \
		snprintf(check_detail_, sizeof check_detail_, "got [%.400s], want [%.400s]", \
			 check_got_ ? check_got_ : "(null)", check_want_ ? check_want_ : "(null)"); \
		check_report(0, (name), __FILE__, __LINE__, check_detail_); } \
	} while (0)

static inline int check_status(void) { return check_counts.failed ? 1 : 0; }

/* A new directory NAME.XXXXXX in $TMPDIR (or /tmp), its path in buf: whether it was made. */
static inline bool temp_dir(char *buf, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(buf, size, "%s/%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name);
	return mkdtemp(buf) != NULL;
}

#endif
