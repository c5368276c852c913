/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/unit_fuzz: replays every recorded fuzz input through its target's
 * checks, as `make check` runs them (plain and under ASan + UBSan), one
 * PASS/FAIL line per input: the files in tests/fuzz/regressions/TARGET (inputs
 * that once failed) and tests/fuzz/seeds/TARGET, and for the XML targets the golden
 * inputs tests/xml/NAME.in.xml and tests/data/NAME.xml.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "xmlcheck.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

jmp_buf fuzz_replay_jump;
char fuzz_replay_reason[512];

/* `make check` rebuilds the replay with libxml2 once both are installed */
#define WITHOUT_LIBXML2 "built without libxml2 (apt-get install libxml2-dev pkg-config)"

#define DECLARE(name) void fuzz_init_##name(void); int fuzz_one_##name(const uint8_t *data, size_t size)
DECLARE(property);
DECLARE(journal);
DECLARE(sysfs);
DECLARE(xml_bytes);
DECLARE(xml_domain);

struct target {
	const char *name;
	void (*init)(void);
	int (*one)(const uint8_t *data, size_t size);
	bool xml;
};

static const struct target targets[] = {
	{ "property", fuzz_init_property, fuzz_one_property, false },
	{ "journal", fuzz_init_journal, fuzz_one_journal, false },
	{ "sysfs", fuzz_init_sysfs, fuzz_one_sysfs, false },
	{ "xml_bytes", fuzz_init_xml_bytes, fuzz_one_xml_bytes, true },
	{ "xml_domain", fuzz_init_xml_domain, fuzz_one_xml_domain, true },
};

static unsigned failures;

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	return n >= k && strcmp(name + n - k, suffix) == 0;
}

/* Runs one input through the target; true when every check held. */
static bool replay_file(const struct target *t, const char *path, bool verbose)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("FAIL fuzz %s %s: %s\n", t->name, path, strerror(errno));
		failures++;
		return false;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	for (size_t got; buf && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
		len += got;
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap *= 2);
			if (!grown)
				free(buf);
			buf = grown;
		}
	}
	fclose(f);
	/* an exact-size copy, so that a read past the end is caught */
	uint8_t *data = buf ? malloc(len ? len : 1) : NULL;
	if (data)
		memcpy(data, buf, len);
	free(buf);
	bool ok = false;
	if (data && setjmp(fuzz_replay_jump) == 0) {
		t->one(data, len);
		ok = true;
		if (verbose)
			printf("PASS fuzz %s %s\n", t->name, path);
	} else {
		printf("FAIL fuzz %s %s: %s\n", t->name, path, data ? fuzz_replay_reason : "out of memory");
		failures++;
	}
	free(data);
	fflush(stdout);
	return ok;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * Replays the files in dir whose names end with suffix; returns how many.
 * verbose: a PASS line per file, else one for the whole directory.
 */
static size_t replay_dir(const struct target *t, const char *dir, const char *suffix, bool verbose)
{
	struct dirent **names;
	int count = scandir(dir, &names, NULL, by_name);
	size_t replayed = 0, passed = 0;
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		if (name[0] != '.' && has_suffix(name, suffix)) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, name);
			passed += replay_file(t, path, verbose);
			replayed++;
		}
		free(names[i]);
	}
	if (count >= 0)
		free(names);
	if (!verbose && replayed > 0 && passed == replayed)
		printf("PASS fuzz %s: %zu inputs of %s%s%s\n", t->name, replayed, dir, *suffix ? "/*" : "", suffix);
	return replayed;
}

/* ---- the checks themselves must be able to fail ---- */

static bool check_fails(const struct xml_case *c)
{
	if (setjmp(fuzz_replay_jump) == 0) {
		xml_check(c);
		return false;
	}
	return true;
}

static void expect(bool ok, const char *name, const char *detail)
{
	if (ok) {
		printf("PASS fuzz xmlcheck %s\n", name);
	} else {
		printf("FAIL fuzz xmlcheck %s: %s\n", name, detail);
		failures++;
	}
}

/* A real patch, then copies of it spoiled one way each: xml_check must refuse every one. */
static void self_test(void)
{
	static const char doc[] = "<domain>\n  <devices>\n  </devices>\n  <os><devices></devices></os>\n</domain>\n";
	const char *good[] = { "<hostdev/>" }, *open_tag[] = { "<hostdev>" };
	if (setjmp(fuzz_replay_jump) != 0) {
		printf("FAIL fuzz xmlcheck setup: %s\n", fuzz_replay_reason);
		failures++;
		return;
	}
	int in = fuzz_memfd("in"), out = fuzz_memfd("out");
	struct xmlpatch_result r, r_open;
	struct xmlpatch_error err;
	size_t len, len_open;
	fuzz_memfd_set(in, doc, sizeof doc - 1);
	int rc = xmlpatch_stream(&(struct xmlpatch_input){ .fd = in }, out, good, 1, &r, &err);
	uint8_t *patched = fuzz_slurp(out, &len);
	fuzz_memfd_set(in, doc, sizeof doc - 1);
	fuzz_memfd_set(out, "", 0);
	int rc_open = xmlpatch_stream(&(struct xmlpatch_input){ .fd = in }, out, open_tag, 1, &r_open, &err);
	uint8_t *patched_open = fuzz_slurp(out, &len_open);
	close(in);
	close(out);
	struct xml_case c = { .in = (const uint8_t *)doc, .in_len = sizeof doc - 1, .fragments = good, .n = 1,
			      .rc = rc, .result = &r, .err = &err, .out = patched, .out_len = len };
	expect(rc == 0 && !check_fails(&c), "accepts a correct patch", "refused");

	patched[0] = '(';
	expect(check_fails(&c), "refuses a changed byte before the insertion", "accepted");
	patched[0] = '<';
	patched[len - 2] = 'X';
	expect(check_fails(&c), "refuses a changed byte after the insertion", "accepted");
	patched[len - 2] = '>';

	struct xmlpatch_result moved = r;
	moved.insert_offset++;
	c.result = &moved;
	expect(check_fails(&c), "refuses a wrong insertion offset", "accepted");
	moved = r;
	moved.mode = XMLPATCH_CREATED;
	expect(check_fails(&c), "refuses a wrong mode", "accepted");
	c.result = &r;
	const char *other[] = { "<hostdev2/>" };
	c.fragments = other;
	expect(check_fails(&c), "refuses text that is not the fragments", "accepted");
	c.fragments = good;

	if (!xml_oracle_available()) {
		printf("SKIP fuzz xmlcheck oracle cases: " WITHOUT_LIBXML2 "\n");
	} else {
		struct xml_case bad = { .in = (const uint8_t *)doc, .in_len = sizeof doc - 1, .fragments = open_tag,
					.n = 1, .rc = rc_open, .result = &r_open, .err = &err, .out = patched_open,
					.out_len = len_open };
		expect(rc_open == 0 && check_fails(&bad), "refuses an output that is not well formed", "accepted");
		/* the same text spliced in at the nested </devices>: bytes fine, tree wrong */
		const char *nested = strstr(doc, "</devices></os>");
		size_t at = (size_t)(nested - doc), ins = strlen(good[0]);
		uint8_t *wrong = malloc(sizeof doc + ins);
		if (wrong) {
			memcpy(wrong, doc, at);
			memcpy(wrong + at, good[0], ins);
			memcpy(wrong + at + ins, doc + at, sizeof doc - 1 - at);
			struct xmlpatch_result r_wrong = { XMLPATCH_INSERTED, at, ins };
			struct xml_case misplaced = { .in = (const uint8_t *)doc, .in_len = sizeof doc - 1,
						      .fragments = good, .n = 1, .rc = 0, .result = &r_wrong,
						      .err = &err, .out = wrong, .out_len = sizeof doc - 1 + ins };
			expect(check_fails(&misplaced), "refuses an insertion into a nested <devices>", "accepted");
			free(wrong);
		}
		/* disagreements with libxml2, either way */
		struct xmlpatch_error said = { .kind = XMLPATCH_MALFORMED, .line = 1, .column = 1,
					       .message = "line 1:1: not well formed" };
		struct xml_case refused = { .in = (const uint8_t *)doc, .in_len = sizeof doc - 1, .fragments = good,
					    .n = 1, .rc = -1, .err = &said };
		expect(check_fails(&refused), "refuses a refusal as malformed of a document libxml2 accepts",
		       "accepted");
		said.kind = XMLPATCH_LIMIT;
		expect(!check_fails(&refused), "accepts a refusal for a limit of a document libxml2 accepts",
		       "refused");
		/* the known difference: libxml2 reads a subset after <!DOCTYPE domain>, at the '[' only */
		static const char quirk[] = "<!-- x --><!DOCTYPE domain SYSTEM 'a>'>[<!ENTITY e \"v\">]><domain/>";
		struct xmlpatch_error at_bracket = { .kind = XMLPATCH_MALFORMED, .line = 1, .column = 40,
						     .message = "line 1:40: text outside the root element" };
		struct xml_case subset = { .in = (const uint8_t *)quirk, .in_len = sizeof quirk - 1,
					   .fragments = good, .n = 1, .rc = -1, .err = &at_bracket };
		expect(!check_fails(&subset), "accepts a refusal at '[' after <!DOCTYPE domain>", "refused");
		at_bracket.column = 39;
		expect(check_fails(&subset), "refuses a refusal of that document elsewhere", "accepted");
		static const char dup[] = "<domain a='1' a='2'><devices/></domain>";
		struct xmlpatch_result r_dup = { XMLPATCH_EXPANDED, sizeof dup - 1 - 11, 2 };
		struct xml_case accepted = { .in = (const uint8_t *)dup, .in_len = sizeof dup - 1, .fragments = good,
					     .n = 0, .rc = 0, .result = &r_dup, .err = &err,
					     .out = (const uint8_t *)dup, .out_len = sizeof dup - 1 };
		expect(check_fails(&accepted), "refuses an acceptance of a document libxml2 refuses", "accepted");
	}
	free(patched);
	free(patched_open);
}

int main(void)
{
	const char *srcdir = getenv("SRCDIR");
	if (srcdir && chdir(srcdir) < 0) {
		printf("FAIL fuzz replay: %s: %s\n", srcdir, strerror(errno));
		return 1;
	}
	if (!xml_oracle_available())
		printf("SKIP fuzz libxml2 oracle: " WITHOUT_LIBXML2 "; byte-level XML invariants are still checked\n");
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		const struct target *t = &targets[i];
		char dir[256];
		if (setjmp(fuzz_replay_jump) != 0) {
			printf("FAIL fuzz %s setup: %s\n", t->name, fuzz_replay_reason);
			failures++;
			continue;
		}
		t->init();
		size_t replayed = 0;
		snprintf(dir, sizeof dir, "tests/fuzz/seeds/%s", t->name);
		replayed += replay_dir(t, dir, "", false);
		snprintf(dir, sizeof dir, "tests/fuzz/regressions/%s", t->name);
		replayed += replay_dir(t, dir, "", true);
		if (t->xml) {
			replayed += replay_dir(t, "tests/xml", ".in.xml", false);
			replayed += replay_dir(t, "tests/data", ".xml", false);
		}
		if (replayed == 0) {
			printf("FAIL fuzz %s: no recorded inputs in tests/fuzz/seeds/%s\n", t->name, t->name);
			failures++;
		}
	}
	fflush(stdout);
#ifdef __SANITIZE_ADDRESS__
	/* leaks of the replayed inputs count; the self test below leaves its
	 * refused cases' allocations behind on purpose */
	if (!failures)
		__lsan_do_leak_check();
#endif
	self_test();
	fflush(stdout);
	/* a failed input leaves its allocations behind: no leak report then */
	if (failures) {
		fuzz_run_at_end();
		_exit(1);
	}
	return 0;
}
