/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sysfs attribute parsers against a reference written from sysfs.h's
 * contract: the same verdict, the same value, outputs untouched on failure.
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "sysfs.h"

#define UNTOUCHED 0xdeadbeefu

/* Strips exactly one trailing '\n'. */
static size_t body(const uint8_t *s, size_t n)
{
	return n > 0 && s[n - 1] == '\n' ? n - 1 : n;
}

/* Kernel "%u": digits, no leading zero, at most max. */
static bool ref_decimal(const uint8_t *s, size_t n, unsigned long long max, unsigned long long *value)
{
	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return false;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (max - (unsigned)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*value = v;
	return true;
}

static bool ref_id(const uint8_t *s, size_t n, unsigned *id)
{
	n = body(s, n);
	if (n != 4)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < 4; i++) {
		const char *hex = "0123456789abcdef0123456789ABCDEF", *at = memchr(hex, s[i], 32);
		if (!at || s[i] == 0)
			return false;
		v = v << 4 | (unsigned)((at - hex) % 16);
	}
	*id = v;
	return true;
}

static bool ref_number(const uint8_t *s, size_t n, unsigned *number)
{
	unsigned long long v;
	if (!ref_decimal(s, body(s, n), 999, &v) || v == 0)
		return false;
	*number = (unsigned)v;
	return true;
}

static bool ref_devt(const uint8_t *s, size_t n, unsigned *major, unsigned *minor)
{
	n = body(s, n);
	const uint8_t *colon = n ? memchr(s, ':', n) : NULL;
	unsigned long long a, b;
	if (!colon || !ref_decimal(s, (size_t)(colon - s), UINT_MAX, &a) ||
	    !ref_decimal(colon + 1, n - (size_t)(colon - s) - 1, UINT_MAX, &b))
		return false;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return true;
}

FUZZ_INIT(sysfs)
{
}

FUZZ_ENTRY(sysfs)
{
	const char *text = (const char *)data;
	unsigned got = UNTOUCHED, want = UNTOUCHED;
	bool ok = sysfs_parse_id(text, size, &got) == 0, ref = ref_id(data, size, &want);
	FUZZ_ASSERT(ok == ref, "sysfs_parse_id says %s, the reference %s", ok ? "valid" : "invalid",
		    ref ? "valid" : "invalid");
	FUZZ_ASSERT(got == want, "sysfs_parse_id: 0x%x, the reference 0x%x", got, want);

	got = want = UNTOUCHED;
	ok = sysfs_parse_number(text, size, &got) == 0, ref = ref_number(data, size, &want);
	FUZZ_ASSERT(ok == ref, "sysfs_parse_number says %s, the reference %s", ok ? "valid" : "invalid",
		    ref ? "valid" : "invalid");
	FUZZ_ASSERT(got == want, "sysfs_parse_number: %u, the reference %u", got, want);

	unsigned major = UNTOUCHED, minor = UNTOUCHED, want_major = UNTOUCHED, want_minor = UNTOUCHED;
	ok = sysfs_parse_devt(text, size, &major, &minor) == 0;
	ref = ref_devt(data, size, &want_major, &want_minor);
	FUZZ_ASSERT(ok == ref, "sysfs_parse_devt says %s, the reference %s", ok ? "valid" : "invalid",
		    ref ? "valid" : "invalid");
	FUZZ_ASSERT(major == want_major && minor == want_minor, "sysfs_parse_devt: %u:%u, the reference %u:%u",
		    major, minor, want_major, want_minor);
	return 0;
}
