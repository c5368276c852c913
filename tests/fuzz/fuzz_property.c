/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hostusb property grammar (parse_property) and the vmId check
 * (check_vmid) against references written from the README: the same verdict,
 * the same entries (written back by selector_text, each parses to itself),
 * and on refusal exactly one printable line of message whose position is
 * where the value stops being the beginning of a valid one.
 */
#include <stdio.h>

#include "hostusb_in.h"

static int hex4(const char *s, unsigned *value)
{
	*value = 0;
	for (int i = 0; i < 4; i++) {
		const char *digits = "0123456789abcdef", *lower = "0123456789ABCDEF";
		const char *at = s[i] ? strchr(digits, s[i]) : NULL, *up = s[i] ? strchr(lower, s[i]) : NULL;
		if (!at && !up)
			return -1;
		*value = *value * 16 + (unsigned)(at ? at - digits : up - lower);
	}
	return 0;
}

/*
 * The README's grammar, read part by part: split at the separators first,
 * then each piece checked on its own.
 *
 *   property := entry ('&' entry){0,31}
 *   entry    := '?'? (id | id '#' serial | id '@' port | '@' port)
 *   id       := '0x' HEX{4} ':0x' HEX{4}
 *   serial   := [A-Za-z0-9._:-]{1,64}
 *   port     := bus '-' p ('.' p){0,6}     bus 1..999, p 1..31, no leading zeros
 */
struct ref_entry {
	int kind; /* 0: id, 1: serial, 2: port */
	bool optional, has_id;
	struct usb_id id;
	char serial[65];
	unsigned bus, depth, ports[8];
};

/* A decimal number of 1..max written without a leading zero, s[0, n). */
static int ref_number(const char *s, size_t n, unsigned max, unsigned *value)
{
	if (n == 0 || n > 3 || s[0] == '0' || strspn(s, "0123456789") < n)
		return -1;
	*value = 0;
	for (size_t i = 0; i < n; i++)
		*value = *value * 10 + (unsigned)(s[i] - '0');
	return *value <= max ? 0 : -1;
}

static int ref_port(const char *s, size_t n, struct ref_entry *e)
{
	const char *dash = memchr(s, '-', n);
	if (!dash || ref_number(s, (size_t)(dash - s), 999, &e->bus) < 0)
		return -1;
	const char *p = dash + 1, *end = s + n;
	for (e->depth = 0;; e->depth++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *stop = dot ? dot : end;
		if (e->depth == 7 || ref_number(p, (size_t)(stop - p), 31, &e->ports[e->depth]) < 0)
			return -1;
		if (!dot)
			break;
		p = dot + 1;
	}
	e->depth++;
	return 0;
}

static int ref_one(const char *s, size_t n, struct ref_entry *e)
{
	memset(e, 0, sizeof *e);
	if (n > 0 && s[0] == '?') {
		e->optional = true;
		s++, n--;
	}
	if (n > 0 && s[0] == '@') {
		e->kind = 2;
		return ref_port(s + 1, n - 1, e);
	}
	static const char hexdigits[] = "0123456789abcdefABCDEF";
	if (n < 13 || memcmp(s, "0x", 2) != 0 || memcmp(s + 6, ":0x", 3) != 0 || strspn(s + 2, hexdigits) < 4 ||
	    strspn(s + 9, hexdigits) < 4 || hex4(s + 2, &e->id.vendor) < 0 || hex4(s + 9, &e->id.product) < 0)
		return -1;
	e->has_id = true;
	const char *rest = s + 13;
	size_t left = n - 13;
	if (left == 0)
		return 0;
	if (rest[0] == '@') {
		e->kind = 2;
		return ref_port(rest + 1, left - 1, e);
	}
	static const char serial_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
	if (rest[0] != '#' || left < 2 || left > 65)
		return -1;
	for (size_t i = 1; i < left; i++)
		if (!memchr(serial_chars, rest[i], sizeof serial_chars - 1))
			return -1;
	e->kind = 1;
	memcpy(e->serial, rest + 1, left - 1);
	return 0;
}

/* s[0, len): 0 with the entries, or -1 */
static int ref_property(const char *s, size_t len, struct ref_entry *entries, size_t *count)
{
	size_t n = 0;
	for (const char *p = s, *end = s + len;; n++) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if (n == MAX_ENTRIES || ref_one(p, (size_t)(stop - p), &entries[n]) < 0)
			return -1;
		if (!amp)
			break;
		p = amp + 1;
	}
	*count = n + 1;
	return 0;
}

/*
 * s[0, len) begins a valid value: some ending makes it one.  Wherever an
 * entry is cut, one of these completes it: nothing (a whole port number or
 * serial), "1" (after '-' or '.'), "-1" (a bus), "1-1" (after '@'), "A"
 * (after '#'), or the rest of an id.
 */
static bool ref_begins_valid(const char *s, size_t len, struct ref_entry *scratch)
{
	static const char id[] = "0x0000:0x0000";
	static const char *const endings[] = { "", "1", "-1", "1-1", "A" };
	char buf[4200];
	size_t count;
	if (len + sizeof id > sizeof buf)
		return false;
	memcpy(buf, s, len);
	for (size_t k = 0; k < sizeof endings / sizeof endings[0] + sizeof id - 1; k++) {
		const char *ending = k < 5 ? endings[k] : id + (k - 5);
		size_t n = strlen(ending);
		memcpy(buf + len, ending, n + 1);
		if (ref_property(buf, len + n, scratch, &count) == 0)
			return true;
	}
	return false;
}

static void check_same(const struct selector *got, const struct ref_entry *want, size_t i)
{
	static const enum selector_kind kinds[] = { SELECT_ID, SELECT_SERIAL, SELECT_PORT };
	FUZZ_ASSERT(got->kind == kinds[want->kind] && got->optional == want->optional && got->has_id == want->has_id,
		    "entry %zu: kind %d optional %d has_id %d, the reference %d %d %d", i, (int)got->kind,
		    got->optional, got->has_id, want->kind, want->optional, want->has_id);
	FUZZ_ASSERT(!want->has_id || (got->id.vendor == want->id.vendor && got->id.product == want->id.product),
		    "entry %zu is %04x:%04x, the reference %04x:%04x", i, got->id.vendor, got->id.product,
		    want->id.vendor, want->id.product);
	FUZZ_ASSERT(want->kind != 1 || strcmp(got->serial, want->serial) == 0, "entry %zu: serial %s, the reference %s",
		    i, got->serial, want->serial);
	FUZZ_ASSERT(want->kind != 2 || (got->port.bus == want->bus && got->port.depth == want->depth),
		    "entry %zu: port bus %u depth %u, the reference %u %u", i, got->port.bus, got->port.depth,
		    want->bus, want->depth);
	for (unsigned k = 0; want->kind == 2 && k < want->depth; k++)
		FUZZ_ASSERT(got->port.ports[k] == want->ports[k], "entry %zu: port %u is %u, the reference %u", i, k,
			    got->port.ports[k], want->ports[k]);
	char text[SELECTOR_TEXT_SIZE];
	struct request again;
	struct error err;
	selector_text(got, text, sizeof text);
	FUZZ_ASSERT(parse_property(text, &again, &err) == 0 && again.count == 1 && again.entries[0].kind == got->kind &&
		    strcmp(again.entries[0].serial, got->serial) == 0 &&
		    again.entries[0].port.bus == got->port.bus && again.entries[0].port.depth == got->port.depth &&
		    memcmp(again.entries[0].port.ports, got->port.ports, sizeof got->port.ports) == 0,
		    "entry %zu written back as \"%s\" does not parse to itself", i, text);
}

/*
 * A syntax error names character K (1-based) and entry N: the value up to K
 * begins a valid one, up to and with K it does not (or K is one past its end),
 * and N - 1 '&' come before K.
 */
static void check_position(const char *text, size_t len, const char *message, struct ref_entry *scratch)
{
	size_t ampersands = 0;
	for (size_t i = 0; i < len; i++)
		ampersands += text[i] == '&';
	if (ampersands >= MAX_ENTRIES) {
		char want[96];
		snprintf(want, sizeof want, "hostusb property has %zu entries; at most %d are allowed", ampersands + 1,
			 MAX_ENTRIES);
		FUZZ_ASSERT(strcmp(message, want) == 0, "too many entries, said \"%s\"", message);
		return;
	}
	const char *last = strrchr(message, ' ');
	size_t at = 0, entry = 0;
	FUZZ_ASSERT(last && last - message >= 10 && strncmp(last - 10, " character", 10) == 0 &&
		    sscanf(last, " %zu", &at) == 1 && at >= 1 && at <= len + 1, "no position at the end of \"%s\"",
		    message);
	FUZZ_ASSERT(sscanf(message, "hostusb property, entry %zu ", &entry) == 1, "no entry named in \"%s\"", message);
	size_t before = 0;
	for (size_t i = 0; i + 1 < at; i++)
		before += text[i] == '&';
	FUZZ_ASSERT(entry == before + 1, "names entry %zu for character %zu", entry, at);
	FUZZ_ASSERT(ref_begins_valid(text, at - 1, scratch), "character %zu named, but the value goes wrong before", at);
	FUZZ_ASSERT(at == len + 1 || !ref_begins_valid(text, at, scratch),
		    "character %zu named, but the value goes on validly", at);
}

static int ref_vmid(const char *s)
{
	size_t len = strlen(s);
	if (len > 64)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-", s[i]))
			return -1;
	return 0;
}

FUZZ_INIT(property)
{
}

FUZZ_ENTRY(property)
{
	char *text = malloc(size + 1);
	FUZZ_ASSERT(text != NULL, "out of memory");
	memcpy(text, data, size);
	text[size] = '\0';

	struct request req = { .count = 999 };
	static struct ref_entry want[MAX_ENTRIES];
	struct error err = { "" };
	size_t want_count = 0, len = strlen(text);
	int got = parse_property(text, &req, &err), ref = ref_property(text, len, want, &want_count);
	FUZZ_ASSERT(got == ref, "parse_property returned %d, the reference %d", got, ref);
	if (got == 0) {
		FUZZ_ASSERT(err.message[0] == '\0', "parse_property accepted and set a message");
		FUZZ_ASSERT(req.count == want_count, "%zu entries, the reference %zu", req.count, want_count);
		for (size_t i = 0; i < want_count; i++)
			check_same(&req.entries[i], &want[i], i);
	} else {
		fuzz_check_message("parse_property", err.message);
		check_position(text, len, err.message, want);
	}

	err.message[0] = '\0';
	got = check_vmid(text, &err);
	ref = ref_vmid(text);
	FUZZ_ASSERT(got == ref, "check_vmid returned %d, the reference %d", got, ref);
	if (got < 0)
		fuzz_check_message("check_vmid", err.message);
	free(text);
	return 0;
}
