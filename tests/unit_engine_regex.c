/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The regular expression README gives for the engine's UserDefinedVMProperties
 * must let through exactly what parse_property accepts.  It is read from the
 * engine-config command line in README, so the two cannot drift apart (the
 * man page's must be the same), and checked on generated values: valid ones of every form and near misses
 * (every character deleted, doubled or changed, numbers at their limits, one
 * entry too many...).  POSIX regexec (REG_EXTENDED) always; Python's
 * re.fullmatch, whose syntax is closer to the engine's Java and ECMAScript,
 * when python3 is installed.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "request.h"
#include "check.h"

#define MAX_VALUE 4096

/* ---- the regex, from README and the man page ---- */

/* What follows command up to quote, on the first line of path that has both. */
static char *quoted_after(const char *path, const char *command, const char *quote)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char line[2048], *found = NULL;
	while (!found && fgets(line, sizeof line, f)) {
		char *start = strstr(line, command);
		char *end = start ? strstr(start + strlen(command), quote) : NULL;
		if (end)
			found = strndup(start + strlen(command), (size_t)(end - start - strlen(command)));
	}
	fclose(f);
	return found;
}

/* The roff escapes the man page's command line uses, undone in place. */
static void unescape_roff(char *text)
{
	static const struct {
		const char *escape, *plain;
	} escapes[] = { { "\\-", "-" }, { "\\e", "\\" }, { "\\(ha", "^" }, { "\\(aq", "'" } };
	char *out = text;
	for (const char *in = text; *in;) {
		size_t k = 0;
		while (k < sizeof escapes / sizeof escapes[0] && strncmp(in, escapes[k].escape, strlen(escapes[k].escape)))
			k++;
		if (k < sizeof escapes / sizeof escapes[0]) {
			*out++ = escapes[k].plain[0];
			in += strlen(escapes[k].escape);
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

/* ---- generated values ---- */

struct values {
	char **text;
	size_t count, cap;
};

static void add(struct values *v, const char *text)
{
	if (v->count == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->text = realloc(v->text, v->cap * sizeof *v->text);
		if (!v->text) {
			printf("FAIL engine regex: out of memory\n");
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

/* ---- the checks ---- */

static bool parser_accepts(const char *value)
{
	struct request req;
	struct error err;
	return parse_property(value, &req, &err) == 0;
}

static void check_posix(const char *regex, const struct values *v, const bool *accepted, size_t valid)
{
	regex_t re;
	int rc = regcomp(&re, regex, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[256];
		regerror(rc, &re, why, sizeof why);
		printf("FAIL engine regex: README's does not compile as POSIX ERE: %s\n", why);
		return;
	}
	size_t disagree = 0;
	for (size_t i = 0; i < v->count; i++) {
		bool matched = regexec(&re, v->text[i], 0, NULL, 0) == 0;
		if (matched != accepted[i] && ++disagree <= 5)
			printf("FAIL engine regex: POSIX regexec %s \"%.200s\", parse_property %s it\n",
			       matched ? "matches" : "does not match", v->text[i], accepted[i] ? "accepts" : "refuses");
	}
	regfree(&re);
	if (disagree == 0)
		printf("PASS engine regex: POSIX regexec and parse_property agree on %zu values (%zu valid)\n",
		       v->count, valid);
}

/* Python's re.fullmatch on every value, through files in a scratch directory. */
static const char python_check[] =
	"import re, sys\n"
	"regex = open(sys.argv[1]).read()\n"
	"bad = 0\n"
	"for line in open(sys.argv[2]):\n"
	"    verdict, value = line[0], line[2:-1]\n"
	"    if (re.fullmatch(regex, value) is not None) != (verdict == '1'):\n"
	"        bad += 1\n"
	"        if bad <= 5: print('mismatch', verdict, value[:200])\n"
	"print('disagree', bad)\n";

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;
	return f ? fclose(f) == 0 && ok : false;
}

static void check_python(const char *regex, const struct values *v, const bool *accepted, size_t valid)
{
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		printf("SKIP engine regex: Python re.fullmatch: python3 not found (apt-get install python3)\n");
		return;
	}
	char dir[] = "/tmp/hostusb-regex.XXXXXX", regex_path[64], values_path[64], script_path[64], command[256];
	if (!mkdtemp(dir)) {
		printf("FAIL engine regex: Python: mkdtemp failed\n");
		return;
	}
	snprintf(regex_path, sizeof regex_path, "%s/regex", dir);
	snprintf(values_path, sizeof values_path, "%s/values", dir);
	snprintf(script_path, sizeof script_path, "%s/check.py", dir);
	FILE *f = fopen(values_path, "w");
	for (size_t i = 0; f && i < v->count; i++)
		fprintf(f, "%c %s\n", accepted[i] ? '1' : '0', v->text[i]);
	bool written = f && fclose(f) == 0 && write_file(regex_path, regex) && write_file(script_path, python_check);
	snprintf(command, sizeof command, "python3 %s %s %s", script_path, regex_path, values_path);
	FILE *out = written ? popen(command, "r") : NULL;
	char line[512];
	long disagree = -1;
	while (out && fgets(line, sizeof line, out))
		if (sscanf(line, "disagree %ld", &disagree) != 1)
			printf("FAIL engine regex: Python re.fullmatch: %s", line);
	int status = out ? pclose(out) : -1;
	unlink(regex_path);
	unlink(values_path);
	unlink(script_path);
	rmdir(dir);
	if (status == 0 && disagree == 0)
		printf("PASS engine regex: Python re.fullmatch and parse_property agree on %zu values (%zu valid)\n",
		       v->count, valid);
	else if (disagree <= 0)
		printf("FAIL engine regex: Python re.fullmatch: no verdict (status %d)\n", status);
}

int main(void)
{
	char *regex = quoted_after("README", "engine-config -s 'UserDefinedVMProperties=hostusb=", "'");
	if (!CHECK("engine regex: on README's engine-config command line", regex && regex[0] == '^'))
		return check_status();
	char *man = quoted_after("hostusb.8", "engine\\-config \\-s \\(aqUserDefinedVMProperties=hostusb=", "\\(aq");
	if (man)
		unescape_roff(man);
	CHECK_STR("engine regex: the man page's is README's", man, regex);
	free(man);
	struct values v = { NULL, 0, 0 };
	generate(&v);
	bool *accepted = calloc(v.count, sizeof *accepted);
	size_t valid = 0;
	unsigned forms_valid = 0, forms_refused = 0;
	for (size_t i = 0; accepted && i < v.count; i++) {
		accepted[i] = parser_accepts(v.text[i]);
		valid += accepted[i];
		/* which forms the values exercise, first entry: '#' serial, '@' port */
		unsigned form = 1u << (strchr(v.text[i], '#') ? 1 : strchr(v.text[i], '@') ? 2 : 0);
		*(accepted[i] ? &forms_valid : &forms_refused) |= form;
	}
	CHECK("engine regex: thousands of values, valid and not, of every form",
	      accepted && v.count >= 2000 && valid >= 500 && v.count - valid >= 1000 && forms_valid == 7 &&
	      forms_refused == 7);
	if (accepted) {
		check_posix(regex, &v, accepted, valid);
		check_python(regex, &v, accepted, valid);
	}
	for (size_t i = 0; i < v.count; i++)
		free(v.text[i]);
	free(v.text);
	free(accepted);
	free(regex);
	return check_status();
}
