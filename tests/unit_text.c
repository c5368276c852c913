/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the rules for text every unit shares (text.h): decimal
 * numbers, hex ids, vmIds and serial numbers, paths under --root, untrusted
 * text in messages, overlong messages, and files opened, read and replaced
 * whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"
#include "check.h"

static struct error err;

static void test_text(void)
{
	unsigned v = 7;
	CHECK("decimal: bounds kept", text_decimal("4294967294", 10, 0xfffffffeu, &v) == 0 && v == 0xfffffffeu &&
	      text_decimal("4294967295", 10, 0xfffffffeu, &v) < 0 && text_decimal("1000", 4, 999, &v) < 0);
	CHECK("decimal: no sign, space, leading zero or empty", text_decimal("-1", 2, 9, &v) < 0 &&
	      text_decimal(" 1", 2, 9, &v) < 0 && text_decimal("01", 2, 9, &v) < 0 && text_decimal("", 0, 9, &v) < 0);
	CHECK("decimal: 0 is a number", text_decimal("0", 1, 9, &v) == 0 && v == 0);
	CHECK("hex4: either case", text_hex4("aBcD", &v) == 0 && v == 0xabcd);
	CHECK("hex4: not hex", text_hex4("12g4", &v) < 0 && text_hex4("12", &v) < 0);
	CHECK("vmId rule", vmid_valid("a-Z9", 4) && !vmid_valid("a_b", 3) && !vmid_valid("a b", 3));
	CHECK("vmIds equal ignoring case", vmid_equal("6c2e-AB", "6C2E-ab") && vmid_equal("", ""));
	CHECK("vmIds differ: a character, a length, a prefix", !vmid_equal("6c2e-ab", "6c2e-ac") &&
	      !vmid_equal("6c2e", "6c2e-") && !vmid_equal("6c2e-", "6c2e") && !vmid_equal("", "a"));
	CHECK("vmIds: only letters fold", !vmid_equal("-", "\r") && !vmid_equal("@", "`") && !vmid_equal("[", "{"));
	char path[32];
	CHECK_STR("root path: trailing slashes", (root_path("/r//", "/etc", path, sizeof path), path), "/r/etc");
	CHECK_STR("root path: the host", (root_path("/", "/etc", path, sizeof path), path), "/etc");
	CHECK("root path: too long", root_path("/0123456789012345678901234567890", "/x", path, sizeof path) < 0);
	char small[8];
	CHECK("root path: too long, cut short to what fits",
	      root_path("/root", "/etc/passwd", small, sizeof small) < 0 && strcmp(small, "/root/e") == 0);
	CHECK("root path: exactly full", root_path("/ro", "/etc", small, sizeof small) == 0 &&
	      strcmp(small, "/ro/etc") == 0);
	CHECK("root path: one byte over",
	      root_path("/roo", "/etc", small, sizeof small) < 0 && strcmp(small, "/roo/et") == 0);
	char huge[4000];
	memset(huge, 'x', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	error_set(&err, "%s: the reason", huge);
	size_t len = strlen(err.message);
	CHECK("error: an overlong message keeps its end", len <= 1011 && strcmp(err.message + len - 12, ": the reason") == 0 &&
	      strstr(err.message, "...") != NULL);
	/* a path beyond any formatting buffer, and a reason of 700 bytes: the path loses its middle */
	static char path_20k[20001], reason[701];
	memset(path_20k, '/', sizeof path_20k - 1);
	memcpy(path_20k + sizeof path_20k - 7, "/x.xml", 6);
	for (size_t i = 0; i < sizeof reason - 1; i++)
		reason[i] = i % 10 == 9 ? ' ' : 'r';
	reason[sizeof reason - 2] = '.';
	error_set(&err, "%s (from _hook_domxml): %s", path_20k, reason);
	len = strlen(err.message);
	const char *kept = strstr(err.message, "/x.xml (from _hook_domxml): ");
	CHECK("error: a 20,000-byte path shortened in its middle, the reason whole", len <= 1011 &&
	      strncmp(err.message, "//", 2) == 0 && strstr(err.message, "...") != NULL && kept &&
	      strcmp(kept + 28, reason) == 0);
	error_set(&err, "%s and %s: %s", path_20k, path_20k, "No such file or directory");
	len = strlen(err.message);
	CHECK("error: two long paths both shortened, the reason whole", len <= 1011 &&
	      strcmp(err.message + len - 27, ": No such file or directory") == 0 &&
	      strstr(err.message, "/x.xml and /") != NULL);
}


/* The files in dir other than keep; the first in *other. */
static int others_in(const char *dir, const char *keep)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | grep -v -x '%s' | wc -l) = 0", dir, keep);
	return system(cmd) == 0;
}


static int file_is(const char *path, const char *text)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return strcmp(buf, text) == 0;
}


static void test_replacement(void)
{
	char dir[256], path[300], stale[320];
	struct replacement r;
	if (!CHECK("replacement: a temporary directory", temp_dir(dir, sizeof dir, "unit_replace")))
		return;
	snprintf(path, sizeof path, "%s/file", dir);
	snprintf(stale, sizeof stale, "%s.update", path);
	FILE *f = fopen(path, "w");
	CHECK("replacement: the file made", f && fputs("old", f) >= 0 && fclose(f) == 0);
	f = fopen(stale, "w");
	CHECK("replacement: a killed run's temporary file", f && fputs("killed", f) >= 0 && fclose(f) == 0);
	/* unnamed (O_TMPFILE), it stays until the new file is linked; named, the name is a new, empty file */
	struct stat st;
	bool named = false;
	CHECK("replacement: begins with what a killed run left in the way",
	      replacement_begin(&r, path, ".update", &err) == 0 &&
	      ((named = r.named) ? stat(stale, &st) == 0 && st.st_size == 0 : file_is(stale, "killed")));
	CHECK("replacement: abandoned, the file is untouched and nothing of its own is left",
	      write_all(r.fd, "new", 3) == 0 && (replacement_abandon(&r), file_is(path, "old")) &&
	      (named ? access(stale, F_OK) < 0 : file_is(stale, "killed")));
	f = fopen(stale, "w");
	CHECK("replacement: committed durably, over what a killed run left",
	      f && fputs("killed", f) >= 0 && fclose(f) == 0 && replacement_begin(&r, path, ".update", &err) == 0 &&
	      write_all(r.fd, "new", 3) == 0 && replacement_commit(&r, true, &err) == 0 && file_is(path, "new") &&
	      others_in(dir, "file"));
	CHECK("replacement: committed durably", replacement_begin(&r, path, ".update", &err) == 0 &&
	      write_all(r.fd, "newer", 5) == 0 && replacement_commit(&r, true, &err) == 0 && file_is(path, "newer") &&
	      others_in(dir, "file"));
	CHECK("replacement: a directory that does not exist", replacement_begin(&r, "/nonexistent/x", ".u", &err) < 0 &&
	      strstr(err.message, "/nonexistent/x: cannot create a temporary file beside it") != NULL);
	/* a name without a directory (_hook_domxml=vm.xml): beside it in "." */
	int cwd = open(".", O_RDONLY | O_DIRECTORY);
	CHECK("replacement: a name without a directory, committed durably",
	      cwd >= 0 && chdir(dir) == 0 && replacement_begin(&r, "file", ".update", &err) == 0 &&
	      write_all(r.fd, "newer", 5) == 0 && replacement_commit(&r, true, &err) == 0 && file_is("file", "newer") &&
	      others_in(".", "file"));
	if (cwd >= 0 && (fchdir(cwd) < 0 || close(cwd) < 0))
		CHECK("replacement: back in the working directory", false);
	unlink(path);
	CHECK("replacement: temporary directory removed", rmdir(dir) == 0);
}


static void test_serial_valid(void)
{
	char longest[SERIAL_MAX + 2];
	memset(longest, '7', sizeof longest);
	CHECK("serial valid: every allowed character", serial_valid("azAZ09._:-", 10));
	CHECK("serial valid: 64 characters", serial_valid(longest, SERIAL_MAX));
	CHECK("serial valid: not 65", !serial_valid(longest, SERIAL_MAX + 1));
	CHECK("serial valid: not empty", !serial_valid("", 0));
	CHECK("serial valid: not a space, slash, NUL, &, # or @", !serial_valid("A B", 3) && !serial_valid("A/B", 3) &&
	      !serial_valid("A\0B", 3) && !serial_valid("A&B", 3) && !serial_valid("A#B", 3) && !serial_valid("A@", 2));
	CHECK("serial valid: only len bytes are read", serial_valid("AB/", 2));
}

static void test_names(void)
{
	CHECK("vmId: letters, digits and - are its characters", vmid_char('a') && vmid_char('Z') && vmid_char('7') &&
	      vmid_char('-') && !vmid_char('_') && !vmid_char(':') && !vmid_char('/') && !vmid_char('\0'));
	char longest[VMID_MAX + 1];
	memset(longest, 'f', sizeof longest);
	CHECK("vmId: 64 characters, not 65", vmid_valid(longest, VMID_MAX) && !vmid_valid(longest, VMID_MAX + 1));
	CHECK("vmId: empty is valid (a journal record without one)", vmid_valid("", 0));
	CHECK("serial: its characters", serial_char('.') && serial_char('_') && serial_char(':') && serial_char('-') &&
	      !serial_char(' ') && !serial_char('#') && !serial_char('\x80'));
}

static void test_root(void)
{
	CHECK("root length: \"\" and \"/\" are the host", root_length("") == 0 && root_length("/") == 0 &&
	      root_length("///") == 0);
	CHECK("root length: trailing slashes do not count", root_length("/r//") == 2 && root_length("/a/b") == 4);
	char path[32];
	err.message[0] = '\0';
	CHECK_STR("path under root: fits", (path_under_root("/r/", "/etc/group", path, sizeof path, &err), path),
		  "/r/etc/group");
	CHECK("path under root: fits, no message", err.message[0] == '\0');
	CHECK("path under root: too long", path_under_root("/0123456789012345678901234567", "/etc", path, sizeof path,
							  &err) < 0);
	CHECK_STR("path under root: the message names root and path", err.message,
		  "/0123456789012345678901234567/etc: path too long");
}

static void test_quote_untrusted(void)
{
	char out[16];
	quote_untrusted("a\033[2J\nb\xc3\xa9", 9, out, sizeof out);
	CHECK_STR("quote: control bytes and bytes above 0x7e shown as ?", out, "a?[2J?b??");
	quote_untrusted("0123456789abcdefghij", 20, out, sizeof out);
	CHECK_STR("quote: cut to its buffer, with ...", out, "0123456789ab...");
	quote_untrusted("0123456789ab", 12, out, sizeof out);
	CHECK_STR("quote: what fits is not cut", out, "0123456789ab");
	quote_untrusted("ab", 1, out, sizeof out);
	CHECK_STR("quote: only len bytes are read", out, "a");
}

static void test_grow_and_write(void)
{
	char *p = grow(NULL, 0, 4);
	CHECK("grow: from nothing", p != NULL);
	if (p)
		memcpy(p, "abcd", 4);
	char *q = p ? grow(p, 4, 1 << 20) : NULL;
	CHECK("grow: keeps what was in use", q && memcmp(q, "abcd", 4) == 0);
	free(q);
	int fds[2];
	char buf[8] = "";
	CHECK("write_all: a pipe", pipe(fds) == 0);
	CHECK("write_all: all of it written", write_all(fds[1], "hostusb", 7) == 0 && close(fds[1]) == 0 &&
	      read(fds[0], buf, sizeof buf) == 7 && memcmp(buf, "hostusb", 7) == 0);
	close(fds[0]);
	errno = 0;
	CHECK("write_all: a closed descriptor fails with errno", write_all(fds[1], "x", 1) < 0 && errno == EBADF);
}

/* open_regular(dir/name): the descriptor closed; its result and why in *why */
static int try_open(const char *dir, const char *name, int flags, size_t max, struct stat *st, const char **why)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	*why = "(not set)";
	int fd = open_regular(path, flags, max, st, why);
	if (fd >= 0 && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		*why = "(not close-on-exec)";
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

static void test_open_regular(void)
{
	char dir[256], path[400], link_path[400], fifo[400], sub[400], made[400];
	struct stat st;
	const char *why;
	if (!CHECK("open_regular: a temporary directory", temp_dir(dir, sizeof dir, "unit_text")))
		return;
	snprintf(path, sizeof path, "%s/file", dir);
	snprintf(link_path, sizeof link_path, "%s/link", dir);
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	snprintf(sub, sizeof sub, "%s/dir", dir);
	snprintf(made, sizeof made, "%s/made", dir);
	FILE *f = fopen(path, "w");
	CHECK("open_regular: the fixtures made", f && fputs("0123456789", f) >= 0 && fclose(f) == 0 &&
	      symlink("file", link_path) == 0 && mkfifo(fifo, 0600) == 0 && mkdir(sub, 0755) == 0);
	CHECK("open_regular: a regular file, its size", try_open(dir, "file", 0, 0, &st, &why) == 0 && !why &&
	      st.st_size == 10);
	CHECK("open_regular: at its limit", try_open(dir, "file", 0, 10, &st, &why) == 0 && !why);
	CHECK_STR("open_regular: over its limit", (try_open(dir, "file", 0, 9, &st, &why), why), "file too large");
	CHECK("open_regular: missing", try_open(dir, "none", 0, 0, &st, &why) == OPEN_MISSING &&
	      strcmp(why, strerror(ENOENT)) == 0);
	CHECK("open_regular: never through a symlink", try_open(dir, "link", 0, 0, &st, &why) == -1 &&
	      strcmp(why, strerror(ELOOP)) == 0);
	CHECK_STR("open_regular: a fifo, without blocking", (try_open(dir, "fifo", 0, 0, &st, &why), why),
		  "not a regular file");
	CHECK_STR("open_regular: a directory", (try_open(dir, "dir", 0, 0, &st, &why), why), "not a regular file");
	mode_t old_mask = umask(022);
	CHECK("open_regular: O_CREAT makes it, 0600", try_open(dir, "made", O_CREAT, 0, &st, &why) == 0 && !why &&
	      stat(made, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_size == 0);
	umask(old_mask);
	char *data = NULL;
	size_t len = 0;
	CHECK("read_small_file: whole, NUL-terminated", read_small_file(path, 10, &data, &len, false, &err) == 0 &&
	      len == 10 && strcmp(data, "0123456789") == 0);
	free(data);
	CHECK("read_small_file: missing and allowed to be", read_small_file(made, 10, &data, &len, true, &err) == 0 &&
	      (free(data), unlink(made) == 0) && read_small_file(made, 10, &data, &len, true, &err) == 1);
	char want[600];
	snprintf(want, sizeof want, "%s: %s", made, strerror(ENOENT));
	CHECK_STR("read_small_file: missing, said so", (read_small_file(made, 10, &data, &len, false, &err), err.message),
		  want);
	snprintf(want, sizeof want, "%s: file too large", path);
	CHECK_STR("read_small_file: over its limit, said so",
		  (read_small_file(path, 9, &data, &len, false, &err), err.message), want);
	CHECK("open_regular: fixtures removed", unlink(path) == 0 && unlink(link_path) == 0 && unlink(fifo) == 0 &&
	      rmdir(sub) == 0 && rmdir(dir) == 0);
}

int main(void)
{
	test_text();
	test_names();
	test_serial_valid();
	test_root();
	test_quote_untrusted();
	test_grow_and_write();
	test_open_regular();
	test_replacement();
	return check_status();
}
