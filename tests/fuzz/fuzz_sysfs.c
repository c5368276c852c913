/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sysfs attribute parsers (ids, numbers, dev, speed, serial) against a
 * reference written from sysfs.h's contract: the same verdict, the same
 * value, outputs untouched on failure.
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

/* speed: digits with at most one '.', neither first nor last, 1 to 7 characters */
static bool ref_speed(const uint8_t *s, size_t n, char *speed)
{
	n = body(s, n);
	size_t dots = 0;
	if (n == 0 || n > 7 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dots++;
		else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	if (dots > 1)
		return false;
	memcpy(speed, s, n);
	speed[n] = '\0';
	return true;
}

/* serial: none when empty; usable when 1 to 64 of [A-Za-z0-9._:-]; the first 64 kept, '?' for unprintables */
static enum usb_serial ref_serial(const uint8_t *s, size_t n, char *kept, bool *cut)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
	n = body(s, n);
	bool usable = n <= 64;
	for (size_t i = 0; i < n; i++) {
		usable = usable && s[i] != 0 && strchr(allowed, s[i]);
		if (i < 64)
			kept[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	}
	kept[n < 64 ? n : 64] = '\0';
	*cut = n > 64;
	return n == 0 ? USB_SERIAL_NONE : usable ? USB_SERIAL_USABLE : USB_SERIAL_UNUSABLE;
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

	char speed[8] = "old", want_speed[8] = "old";
	ok = sysfs_parse_speed(text, size, speed) == 0, ref = ref_speed(data, size, want_speed);
	FUZZ_ASSERT(ok == ref && strcmp(speed, want_speed) == 0, "sysfs_parse_speed: %s \"%s\", the reference %s \"%s\"",
		    ok ? "valid" : "invalid", speed, ref ? "valid" : "invalid", want_speed);

	char kept[SERIAL_MAX + 1], want_kept[SERIAL_MAX + 1];
	bool cut, want_cut;
	enum usb_serial kind = sysfs_parse_serial(text, size, kept, &cut);
	enum usb_serial want_kind = ref_serial(data, size, want_kept, &want_cut);
	FUZZ_ASSERT(kind == want_kind && cut == want_cut && strcmp(kept, want_kept) == 0,
		    "sysfs_parse_serial: kind %d cut %d \"%s\", the reference %d %d \"%s\"", (int)kind, (int)cut, kept,
		    (int)want_kind, (int)want_cut, want_kept);
	return 0;
}
