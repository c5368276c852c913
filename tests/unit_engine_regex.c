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

#include "check.h"
#include "property_values.h"

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

/* ---- the checks ---- */

static void check_posix(const char *regex, const struct values *v)
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
		if (matched != v->accepted[i] && ++disagree <= 5)
			printf("FAIL engine regex: POSIX regexec %s \"%.200s\", parse_property %s it\n",
			       matched ? "matches" : "does not match", v->text[i], v->accepted[i] ? "accepts" : "refuses");
	}
	regfree(&re);
	if (disagree == 0)
		printf("PASS engine regex: POSIX regexec and parse_property agree on %zu values (%zu valid)\n",
		       v->count, v->valid);
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

static void check_python(const char *regex, const struct values *v)
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
		fprintf(f, "%c %s\n", v->accepted[i] ? '1' : '0', v->text[i]);
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
		       v->count, v->valid);
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
	struct values v;
	property_values(&v);
	CHECK("engine regex: thousands of values, valid and not, of every form", property_values_cover(&v));
	check_posix(regex, &v);
	check_python(regex, &v);
	property_values_free(&v);
	free(regex);
	return check_status();
}
