/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The grammar of the hostusb property that `hostusb --help` prints must let
 * through exactly what parse_property accepts.  It is read from the program's
 * output: the forms of ENTRY (one a line, "0xVVVV:0xPPPP#SERIAL"...), how many
 * entries, the serial number's length and characters, the port's bus and port
 * numbers and depth.  From that alone a matcher of its own judges examples
 * made from the help (each form, each number at its limit and one past it)
 * and the values unit_engine_regex checks the engine's regex on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "check.h"
#include "property_values.h"

#define MAX_FORMS 8
#define FORM_SIZE 32
#define HELP_SIZE 8192

/* The grammar as the help states it. */
struct grammar {
	char forms[MAX_FORMS][FORM_SIZE];
	size_t form_count;
	unsigned max_entries;
	unsigned serial_min, serial_max;
	bool serial_char[256];
	unsigned bus_min, bus_max, depth_max, port_min, port_max;
	char port_example[32];
};

/* ---- the help, read ---- */

/* What `$HOSTUSB --help` prints (./hostusb without HOSTUSB), into help. */
static bool read_help(char *help, size_t size)
{
	const char *program = getenv("HOSTUSB");
	char command[600];
	snprintf(command, sizeof command, "'%s' --help", program && program[0] ? program : "./hostusb");
	FILE *out = popen(command, "r");
	size_t len = out ? fread(help, 1, size - 1, out) : 0;
	help[len] = '\0';
	return out && pclose(out) == 0 && len > 0 && len < size - 1;
}

/* The forms of ENTRY: the first word of each indented line after the one ending "ENTRY is". */
static void read_forms(const char *help, struct grammar *g)
{
	const char *at = strstr(help, "ENTRY is\n");
	for (const char *line = at ? strchr(at, '\n') + 1 : NULL; line && strncmp(line, "  ", 2) == 0;) {
		size_t len = strcspn(line + 2, " \n");
		if (g->form_count < MAX_FORMS && len < FORM_SIZE)
			snprintf(g->forms[g->form_count++], FORM_SIZE, "%.*s", (int)len, line + 2);
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
}

/* "(1-64 of A-Z a-z 0-9 . _ : -)" on the SERIAL line: its length and characters. */
static bool read_serial(const char *help, struct grammar *g)
{
	const char *line = strstr(help, "#SERIAL ");
	const char *open = line ? strchr(line, '(') : NULL;
	int used = 0;
	if (!open || sscanf(open, "(%u-%u of %n", &g->serial_min, &g->serial_max, &used) != 2 || used == 0)
		return false;
	for (const char *s = open + used; *s != ')'; s++) {
		if (*s == '\0' || *s == '\n')
			return false;
		if (*s == ' ')
			continue;
		unsigned char first = (unsigned char)s[0], last = first;
		if (s[1] == '-' && s[2] && s[2] != ' ' && s[2] != ')')
			last = (unsigned char)s[2], s += 2;
		for (unsigned c = first; c <= last; c++)
			g->serial_char[c] = true;
	}
	return true;
}

/* "PORT is ... as in /sys/bus/usb/devices/1-3.1: bus 1-999, then up to 7 port numbers 1-31" */
static bool read_port(const char *help, struct grammar *g)
{
	const char *port = strstr(help, "\nPORT is");
	const char *example = port ? strstr(port, "/sys/bus/usb/devices/") : NULL;
	const char *bus = port ? strstr(port, "bus ") : NULL;
	const char *depth = port ? strstr(port, "up to ") : NULL;
	if (!example || !bus || !depth)
		return false;
	example += strlen("/sys/bus/usb/devices/");
	snprintf(g->port_example, sizeof g->port_example, "%.*s", (int)strcspn(example, ": \n"), example);
	return sscanf(bus, "bus %u-%u", &g->bus_min, &g->bus_max) == 2 &&
	       sscanf(depth, "up to %u port numbers %u-%u", &g->depth_max, &g->port_min, &g->port_max) == 3;
}

static bool read_grammar(const char *help, struct grammar *g)
{
	memset(g, 0, sizeof *g);
	read_forms(help, g);
	const char *most = strstr(help, "hostusb=ENTRY[&ENTRY]... (at most ");
	return g->form_count >= 4 && most && sscanf(most, "hostusb=ENTRY[&ENTRY]... (at most %u)", &g->max_entries) == 1 &&
	       read_serial(help, g) && read_port(help, g);
}

/* ---- the grammar's own matcher ---- */

/* A decimal number as the kernel prints it (no leading zero), from min to max, at *s: *s moved past it. */
static bool number_in(const char **s, const char *end, unsigned min, unsigned max)
{
	const char *p = *s;
	unsigned long n = 0;
	while (p < end && *p >= '0' && *p <= '9' && n <= max)
		n = n * 10 + (unsigned long)(*p++ - '0');
	bool ok = p > *s && (p - *s == 1 || **s != '0') && n >= min && n <= max;
	*s = p;
	return ok;
}

/* The kernel's port path: BUS-PORT[.PORT]... */
static bool port_matches(const struct grammar *g, const char *s, const char *end)
{
	if (!number_in(&s, end, g->bus_min, g->bus_max) || s == end || *s++ != '-')
		return false;
	for (unsigned depth = 1; depth <= g->depth_max; depth++) {
		if (!number_in(&s, end, g->port_min, g->port_max))
			return false;
		if (s == end)
			return true;
		if (*s++ != '.')
			return false;
	}
	return false;
}

static bool serial_matches(const struct grammar *g, const char *s, const char *end)
{
	size_t len = (size_t)(end - s);
	for (const char *p = s; p < end; p++)
		if (!g->serial_char[(unsigned char)*p])
			return false;
	return len >= g->serial_min && len <= g->serial_max;
}

static bool entry_matches(const struct grammar *g, const char *s, const char *end, bool inner);

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * The entry [s, end) has the shape of form: VVVV and PPPP are 4 hex digits;
 * SERIAL, PORT and ENTRY (one of the forms that do not hold ENTRY) end a form
 * and take the rest of the entry; any other character stands for itself.
 */
static bool form_matches(const struct grammar *g, const char *form, const char *s, const char *end)
{
	while (*form) {
		if (strncmp(form, "VVVV", 4) == 0 || strncmp(form, "PPPP", 4) == 0) {
			if (end - s < 4 || !is_hex(s[0]) || !is_hex(s[1]) || !is_hex(s[2]) || !is_hex(s[3]))
				return false;
			s += 4;
			form += 4;
		} else if (strcmp(form, "SERIAL") == 0) {
			return serial_matches(g, s, end);
		} else if (strcmp(form, "PORT") == 0) {
			return port_matches(g, s, end);
		} else if (strcmp(form, "ENTRY") == 0) {
			return entry_matches(g, s, end, true);
		} else if (s < end && *s == *form) {
			s++;
			form++;
		} else {
			return false;
		}
	}
	return s == end;
}

/* One of the forms; inner: one that does not itself hold ENTRY (an optional entry is not made optional again). */
static bool entry_matches(const struct grammar *g, const char *s, const char *end, bool inner)
{
	for (size_t i = 0; i < g->form_count; i++)
		if (!(inner && strstr(g->forms[i], "ENTRY")) && form_matches(g, g->forms[i], s, end))
			return true;
	return false;
}

/* ENTRY[&ENTRY]..., at most max_entries of them */
static bool grammar_accepts(const struct grammar *g, const char *value)
{
	unsigned entries = 0;
	for (const char *s = value;; s++) {
		const char *end = s + strcspn(s, "&");
		if (++entries > g->max_entries || !entry_matches(g, s, end, false))
			return false;
		if (*end == '\0')
			return true;
		s = end;
	}
}

/* ---- examples made from the help ---- */

/*
 * form with each placeholder replaced by an instance: with the largest
 * numbers and lengths, or the smallest; ENTRY by an instance of inner.
 */
static void instance(const struct grammar *g, const char *form, const char *inner, bool largest, char *buf,
		     size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	while (*form && used + 1 < size) {
		char piece[512] = "";
		size_t skip = 1;
		if (strncmp(form, "VVVV", 4) == 0 || strncmp(form, "PPPP", 4) == 0) {
			snprintf(piece, sizeof piece, "%s", form[0] == 'V' ? "0529" : "00fF");
			skip = 4;
		} else if (strncmp(form, "SERIAL", 6) == 0) {
			size_t len = 0, n = largest ? g->serial_max : g->serial_min;
			for (unsigned c = 1; len < n && len + 1 < sizeof piece; c = c % 255 + 1)
				if (g->serial_char[c])
					piece[len++] = (char)c;
			piece[len] = '\0';
			skip = 6;
		} else if (strncmp(form, "PORT", 4) == 0) {
			unsigned port = largest ? g->port_max : g->port_min, depth = largest ? g->depth_max : 1;
			int n = snprintf(piece, sizeof piece, "%u-%u", largest ? g->bus_max : g->bus_min, port);
			for (unsigned i = 1; i < depth && n > 0 && (size_t)n < sizeof piece; i++)
				n += snprintf(piece + n, sizeof piece - (size_t)n, ".%u", port);
			skip = 4;
		} else if (strncmp(form, "ENTRY", 5) == 0) {
			instance(g, inner, inner, largest, piece, sizeof piece);
			skip = 5;
		} else {
			piece[0] = *form;
			piece[1] = '\0';
		}
		used += (size_t)snprintf(buf + used, size - used, "%s", piece);
		form += skip;
	}
}

static bool parser_accepts(const char *value)
{
	struct request req;
	struct error err;
	return parse_property(value, &req, &err) == 0;
}

/* value: the grammar and the parser both accept it (accept) or both refuse it */
static void check_example(const struct grammar *g, const char *name, const char *value, bool accept)
{
	char label[200];
	snprintf(label, sizeof label, "help grammar: %s: %s (\"%.60s\")", accept ? "accepted" : "refused", name, value);
	CHECK(label, grammar_accepts(g, value) == accept && parser_accepts(value) == accept);
}

static void check_examples(const struct grammar *g)
{
	char buf[4096], at[64];
	for (size_t i = 0; i < g->form_count; i++)
		for (size_t j = 0; j < g->form_count; j++) {
			/* a form that holds ENTRY with each of the others in its place */
			const char *form = g->forms[i], *inner = g->forms[j];
			if (strstr(inner, "ENTRY") || (j != i && !strstr(form, "ENTRY")))
				continue;
			for (int largest = 0; largest < 2; largest++) {
				const char *which = largest ? "largest" : "smallest";
				if (strstr(form, "ENTRY"))
					snprintf(at, sizeof at, "form %s with %s, its %s", form, inner, which);
				else
					snprintf(at, sizeof at, "form %s, its %s", form, which);
				instance(g, form, inner, largest, buf, sizeof buf);
				check_example(g, at, buf, true);
			}
		}
	snprintf(buf, sizeof buf, "@%s", g->port_example);
	check_example(g, "the help's port example", buf, true);
	/* one past each limit the help states */
	const struct { const char *name; unsigned bus, port; } past[] = {
		{ "bus one above", g->bus_max + 1, 1 }, { "bus one below", g->bus_min - 1, 1 },
		{ "port one above", 1, g->port_max + 1 }, { "port one below", 1, g->port_min - 1 },
	};
	for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
		snprintf(buf, sizeof buf, "@%u-%u", past[i].bus, past[i].port);
		check_example(g, past[i].name, buf, false);
	}
	int n = snprintf(buf, sizeof buf, "@1-1");
	for (unsigned i = 0; i < g->depth_max && n > 0 && (size_t)n < sizeof buf; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, ".1");
	check_example(g, "one port level too many", buf, false);
	n = snprintf(buf, sizeof buf, "0x0529:0x0001#");
	for (unsigned i = 0; i <= g->serial_max && (size_t)n + 1 < sizeof buf; i++)
		buf[n++] = 'S';
	buf[n] = '\0';
	check_example(g, "a serial one character too long", buf, false);
	if (g->serial_min > 0) {
		snprintf(buf, sizeof buf, "0x0529:0x0001#%.*s", (int)g->serial_min - 1, "SSSSSSSS");
		check_example(g, "a serial one character too short", buf, false);
	}
	buf[0] = '\0';
	for (unsigned i = 0, used = 0; i <= g->max_entries && used + 6 < sizeof buf; i++)
		used += (unsigned)snprintf(buf + used, sizeof buf - used, i ? "&@1-1" : "@1-1");
	check_example(g, "one entry too many", buf, false);
	size_t refused = 0;
	for (unsigned c = 1; c < 256; c++) {
		snprintf(buf, sizeof buf, "0x0529:0x0001#A%cB", (char)c);
		if (!g->serial_char[c])
			refused += !grammar_accepts(g, buf) && !parser_accepts(buf);
	}
	size_t others = 0;
	for (unsigned c = 1; c < 256; c++)
		others += !g->serial_char[c];
	CHECK("help grammar: refused: every byte not among the serial's characters", refused == others && others > 0);
}

/* ---- the values unit_engine_regex uses ---- */

static void check_values(const struct grammar *g)
{
	struct values v;
	property_values(&v);
	CHECK("help grammar: thousands of values, valid and not, of every form", property_values_cover(&v));
	size_t disagree = 0;
	for (size_t i = 0; i < v.count; i++) {
		bool matched = grammar_accepts(g, v.text[i]);
		if (matched != v.accepted[i] && ++disagree <= 5)
			printf("FAIL help grammar: --help's grammar %s \"%.200s\", parse_property %s it\n",
			       matched ? "accepts" : "refuses", v.text[i], v.accepted[i] ? "accepts" : "refuses");
	}
	if (disagree == 0)
		printf("PASS help grammar: --help's grammar and parse_property agree on %zu values (%zu valid)\n", v.count,
		       v.valid);
	property_values_free(&v);
}

int main(void)
{
	static char help[HELP_SIZE];
	static struct grammar g;
	if (!CHECK("help grammar: hostusb --help printed", read_help(help, sizeof help)))
		return check_status();
	if (!CHECK("help grammar: the forms of ENTRY, the number of entries, the serial's and the port's limits read",
		   read_grammar(help, &g)))
		return check_status();
	check_examples(&g);
	check_values(&g);
	return check_status();
}
