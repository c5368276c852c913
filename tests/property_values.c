/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Values of the hostusb property and parse_property's verdicts; see property_values.h. */
#include "property_values.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define MAX_VALUE 4096

/* ---- generated values ---- */

static void add(struct values *v, const char *text)
{
	if (v->count == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->text = realloc(v->text, v->cap * sizeof *v->text);
		if (!v->text) {
			printf("FAIL property values: out of memory\n");
			exit(1);
		}
	}
	v->text[v->count++] = strdup(text);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned pick(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void append(char *buf, const char *text)
{
	size_t used = strlen(buf);
	snprintf(buf + used, MAX_VALUE - used, "%s", text);
}

static void append_number(char *buf, unsigned n)
{
	char text[16];
	snprintf(text, sizeof text, "%u", n);
	append(buf, text);
}

static void append_id(char *buf)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	char id[] = "0xVVVV:0xPPPP";
	for (size_t i = 0; i < 4; i++) {
		id[2 + i] = hex[pick(sizeof hex - 1)];
		id[9 + i] = hex[pick(sizeof hex - 1)];
	}
	append(buf, id);
}

static void append_serial(char *buf)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
	static const unsigned lengths[] = { 1, 2, 8, 16, 63, 64 };
	char serial[SERIAL_MAX + 1];
	unsigned len = pick(2) ? lengths[pick(6)] : 1 + pick(SERIAL_MAX);
	for (unsigned i = 0; i < len; i++)
		serial[i] = chars[pick(sizeof chars - 1)];
	serial[len] = '\0';
	append(buf, serial);
}

static void append_port(char *buf)
{
	static const unsigned buses[] = { 1, 2, 9, 10, 99, 100, 999 }, ports[] = { 1, 2, 9, 10, 19, 20, 29, 30, 31 };
	append_number(buf, pick(2) ? buses[pick(7)] : 1 + pick(999));
	unsigned depth = 1 + pick(USB_PORT_DEPTH_MAX);
	for (unsigned i = 0; i < depth; i++) {
		append(buf, i ? "." : "-");
		append_number(buf, pick(2) ? ports[pick(9)] : 1 + pick(31));
	}
}

/* A valid entry of form 0..3 (id, serial, id and port, port), optional or not. */
static void append_entry(char *buf, unsigned form, bool optional)
{
	if (optional)
		append(buf, "?");
	if (form != 3)
		append_id(buf);
	if (form == 1) {
		append(buf, "#");
		append_serial(buf);
	} else if (form >= 2) {
		append(buf, "@");
		append_port(buf);
	}
}

static void valid_value(char *buf, size_t entries)
{
	buf[0] = '\0';
	for (size_t i = 0; i < entries; i++) {
		if (i)
			append(buf, "&");
		append_entry(buf, pick(4), pick(2));
	}
}

/* Each character deleted, doubled, changed to another, and one inserted before it. */
static void add_mutations(struct values *v, const char *value)
{
	static const char others[] = "0139aFXx:#@&?.-_ /Z";
	size_t len = strlen(value);
	char buf[MAX_VALUE + 2];
	for (size_t i = 0; i < len && len < MAX_VALUE; i++) {
		char c = others[pick(sizeof others - 1)];
		snprintf(buf, sizeof buf, "%.*s%s", (int)i, value, value + i + 1);
		add(v, buf);
		snprintf(buf, sizeof buf, "%.*s%c%s", (int)i + 1, value, value[i], value + i + 1);
		add(v, buf);
		snprintf(buf, sizeof buf, "%.*s%c%s", (int)i, value, c, value + i + 1);
		add(v, buf);
		snprintf(buf, sizeof buf, "%.*s%c%s", (int)i, value, c, value + i);
		add(v, buf);
	}
}

/* entry as a value's first, optional, second and middle entry: into v */
static void add_in_places(struct values *v, const char *entry)
{
	static const char *const before[] = { "", "?", "@1-1&", "0x0529:0x0001#S&?" };
	static const char *const after[] = { "", "", "", "&@2-3" };
	char buf[MAX_VALUE];
	for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s%s", before[i], entry, after[i]);
		add(v, buf);
	}
}

/* Numbers and lengths at their limits, and the shapes that are almost right. */
static void add_near_misses(struct values *v)
{
	static const char *const entries[] = {
		"", "?", "?0x0529:0x0001", "&0x0529:0x0001", "0x0529:0x0001&", "0X0529:0x0001", "0x0529:0X0001",
		"0x0529:0x0001#", "0x0529:0x0001@", "@", "#A", "0x052:0x0001", "0x05299:0x0001", "0xg529:0x0001",
		"0x0529;0x0001", "0x0529:0x0001,0x0529:0x0001", "0x0529:0x0001#A#B", "0x0529:0x0001#A@1-1",
		"0x0529:0x0001@1-1#A", "0x0529:0x0001@1-1@1-2", "0x0529:0x0001 ", " 0x0529:0x0001",
		"0x0529:0x0001#A/B", "0x0529:0x0001#A B", "0x0529:0x0001#A+B", "0x0529:0x0001#-._:",
	};
	static const char *const ports[] = {
		"usb1", "999-1", "1000-1", "0-1", "01-1", "1-31", "1-32", "1-0", "1-01", "1-3.", "1-.3", "1",
		"1-", "-1", "1-3:1.0", "1-1.2.3.4.5.6.7", "1-1.2.3.4.5.6.7.8", "1-1.2.3.4.5.6.31", "1-1.2.3.4.5.6.32",
		"1-30.29.20.19.10.9.1", "1-1.2.3.4.5.6.0", "1-3..1", "1-4.40",
	};
	char buf[MAX_VALUE];
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
		add_in_places(v, entries[i]);
	for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
		snprintf(buf, sizeof buf, "@%s", ports[i]);
		add_in_places(v, buf);
		snprintf(buf, sizeof buf, "0x0529:0x0001@%s", ports[i]);
		add_in_places(v, buf);
	}
	for (int extra = 0; extra < 2; extra++) {
		strcpy(buf, "0x0529:0x0001#");
		for (int i = 0; i < SERIAL_MAX + extra; i++)
			append(buf, "s");
		add_in_places(v, buf);
	}
	for (size_t count = 31; count <= 34; count++) {
		valid_value(buf, count);
		add(v, buf);
		buf[0] = '\0';
		for (size_t i = 0; i < count; i++)
			append(buf, i ? "&@1-1" : "@1-1");
		add(v, buf);
	}
}

static void generate(struct values *v)
{
	char buf[MAX_VALUE];
	add_near_misses(v);
	for (unsigned form = 0; form < 4; form++)
		for (int optional = 0; optional < 2; optional++)
			for (int k = 0; k < 40; k++) {
				buf[0] = '\0';
				append_entry(buf, form, optional);
				add(v, buf);
				if (k < 3)
					add_mutations(v, buf);
			}
	for (int k = 0; k < 200; k++) {
		valid_value(buf, 1 + pick(MAX_ENTRIES));
		add(v, buf);
		if (k < 4 && strlen(buf) < 200)
			add_mutations(v, buf);
	}
}

static bool parser_accepts(const char *value)
{
	struct request req;
	struct error err;
	return parse_property(value, &req, &err) == 0;
}

void property_values(struct values *v)
{
	*v = (struct values){ NULL, NULL, 0, 0, 0, 0, 0 };
	generate(v);
	v->accepted = calloc(v->count, sizeof *v->accepted);
	if (!v->accepted) {
		printf("FAIL property values: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < v->count; i++) {
		v->accepted[i] = parser_accepts(v->text[i]);
		v->valid += v->accepted[i];
		/* which forms the values exercise, first entry: '#' serial, '@' port */
		unsigned form = 1u << (strchr(v->text[i], '#') ? 1 : strchr(v->text[i], '@') ? 2 : 0);
		*(v->accepted[i] ? &v->forms_valid : &v->forms_refused) |= form;
	}
}

bool property_values_cover(const struct values *v)
{
	return v->count >= 2000 && v->valid >= 500 && v->count - v->valid >= 1000 && v->forms_valid == 7 &&
	       v->forms_refused == 7;
}

void property_values_free(struct values *v)
{
	for (size_t i = 0; i < v->count; i++)
		free(v->text[i]);
	free(v->text);
	free(v->accepted);
	*v = (struct values){ NULL, NULL, 0, 0, 0, 0, 0 };
}
