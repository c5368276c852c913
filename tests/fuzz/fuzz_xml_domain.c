/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The XML patcher fed mutations of realistic domain XMLs (seeds: the golden
 * inputs in tests/xml, the domain files in tests/data, tests/fuzz/seeds/xml_domain), with
 * the hostdev elements hostusb itself writes (hostdev_text):
 *  - xmlpatch_stream, reading in short pieces: everything xmlcheck.h lists;
 *  - the same document read as the kernel gives it: the same verdict, the
 *    same message, the same output (chunking must not matter);
 *  - the program's way of replacing the domain file (text.h's struct
 *    replacement) on a real file: on success the domain file holds that
 *    output with its mode; on failure the message is one line, the domain
 *    file unchanged, and no temporary file is left either way.
 */
#include "hostusb_in.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostdev.h"
#include "xmlpatch.h"

#include "xmlcheck.h"

static int in_fd = -1, out_fd = -1, plain_fd = -1;
static char dir[64], domxml[96];

/* Empties and removes a work directory: domain.xml and any temp file beside it. */
static void remove_dir_at(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		for (struct dirent *e; (e = readdir(d)) != NULL;) {
			char file[4096];
			snprintf(file, sizeof file, "%s/%s", path, e->d_name);
			if (e->d_name[0] != '.')
				unlink(file);
		}
		closedir(d);
	}
	rmdir(path);
}

static void remove_dir(void)
{
	remove_dir_at(dir);
}

/* Work directories are BASE/hostusb-fuzz-PID; those of processes gone (a
 * crash, an abort) are removed by the next run. */
static void remove_stale_dirs(const char *base)
{
	DIR *d = opendir(base);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char *end;
		long pid = strncmp(e->d_name, "hostusb-fuzz-", 13) == 0 ? strtol(e->d_name + 13, &end, 10) : 0;
		if (pid > 0 && *end == '\0' && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", base, e->d_name);
			remove_dir_at(path);
		}
	}
	closedir(d);
}

FUZZ_INIT(xml_domain)
{
	in_fd = fuzz_memfd("in");
	out_fd = fuzz_memfd("out");
	plain_fd = fuzz_memfd("plain");
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	remove_stale_dirs(base);
	snprintf(dir, sizeof dir, "%s/hostusb-fuzz-%ld", base, (long)getpid());
	remove_dir_at(dir);
	FUZZ_ASSERT(mkdir(dir, 0700) == 0, "mkdir %s: %s", dir, strerror(errno));
	snprintf(domxml, sizeof domxml, "%s/domain.xml", dir);
	atexit(remove_dir);
	fuzz_at_end(remove_dir);
}

/* Names in dir other than domain.xml; the first in *other. */
static size_t stray_files(char *other, size_t size)
{
	DIR *d = opendir(dir);
	FUZZ_ASSERT(d != NULL, "opendir %s: %s", dir, strerror(errno));
	size_t count = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, "domain.xml") == 0)
			continue;
		if (count++ == 0)
			snprintf(other, size, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return count;
}

static void write_domain(const uint8_t *data, size_t size, mode_t mode)
{
	int fd = open(domxml, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0, "%s: %s", domxml, strerror(errno));
	FUZZ_ASSERT(write_all(fd, data, size) == 0, "%s: %s", domxml, strerror(errno));
	FUZZ_ASSERT(fchmod(fd, mode) == 0 && close(fd) == 0, "%s: %s", domxml, strerror(errno));
}

FUZZ_ENTRY(xml_domain)
{
	uint64_t h = fuzz_hash(data, size);
	char text[3][HOSTDEV_SIZE];
	const char *fragments[3];
	size_t n = 1 + h % 3;
	for (size_t i = 0; i < n; i++) {
		uint64_t b = h >> (2 + 16 * i);
		struct usb_id id = { (unsigned)(b & 0xffff), (unsigned)((b >> 4) & 0xffff) };
		struct usb_addr addr = { 1 + (unsigned)(b % 999), 1 + (unsigned)((b >> 10) % 999) };
		hostdev_text(id, (b >> 1) & 1 ? &addr : NULL, text[i], sizeof text[i]);
		fragments[i] = text[i];
	}

	/* xmlpatch_stream, short reads */
	struct xml_run run;
	xml_patch_checked(in_fd, out_fd, data, size, fragments, n, h | 1, &run);
	int rc = run.rc;
	const struct xmlpatch_result result = run.result;
	const struct xmlpatch_error *err = &run.err;
	uint8_t *out = run.out;
	size_t out_len = run.out_len;

	/* the same, read as the kernel gives it */
	fuzz_memfd_set(in_fd, data, size);
	fuzz_memfd_set(plain_fd, "", 0);
	struct xmlpatch_result plain_result = { .insert_offset = ~0ull };
	struct xmlpatch_error plain_err;
	int plain_rc = xmlpatch_stream(&(struct xmlpatch_input){ .fd = in_fd }, plain_fd, fragments, n,
				       &plain_result, &plain_err);
	FUZZ_ASSERT(plain_rc == rc, "short reads: %d, whole reads: %d (%s)", rc, plain_rc,
		    rc ? err->message : plain_err.message);
	if (rc == 0) {
		size_t plain_len;
		uint8_t *plain = fuzz_slurp(plain_fd, &plain_len);
		FUZZ_ASSERT(plain_len == out_len && memcmp(plain, out, out_len) == 0 &&
				    plain_result.mode == result.mode &&
				    plain_result.insert_offset == result.insert_offset &&
				    plain_result.insert_length == result.insert_length,
			    "short reads and whole reads give different output");
		free(plain);
	} else {
		const char *a = err->message, *b = plain_err.message;
		if (fuzz_known_bugs()) {
			a = strstr(a, ": ") ? strstr(a, ": ") + 2 : a;
			b = strstr(b, ": ") ? strstr(b, ": ") + 2 : b;
		}
		FUZZ_ASSERT(strcmp(a, b) == 0, "short reads: \"%s\", whole reads: \"%s\"", err->message,
			    plain_err.message);
	}

	/* the program's path: a replacement of the domain file */
	mode_t mode = (h >> 40) & 1 ? 0640 : 0600;
	write_domain(data, size, mode);
	struct error err_temp = { "" };
	struct replacement r;
	int domain_fd = open(domxml, O_RDONLY | O_CLOEXEC);
	FUZZ_ASSERT(domain_fd >= 0, "%s: %s", domxml, strerror(errno));
	FUZZ_ASSERT(replacement_begin(&r, domxml, ".hostusb-update", &err_temp) == 0, "replacement_begin: %s",
		    err_temp.message);
	fuzz_read_pattern((h >> 7) | 1);
	struct xmlpatch_result temp_result;
	struct xmlpatch_error temp_err;
	const struct xmlpatch_input temp_in = { .fd = domain_fd, .read = fuzz_read };
	int temp_rc = xmlpatch_stream(&temp_in, r.fd, fragments, n, &temp_result, &temp_err);
	fuzz_read_pattern(0);
	close(domain_fd);
	FUZZ_ASSERT((temp_rc == 0) == (rc == 0), "into the temporary file: %d, into a memfd: %d", temp_rc, rc);
	char stray[4096] = "";
	if (temp_rc == 0) {
		FUZZ_ASSERT(fchmod(r.fd, mode) == 0, "fchmod: %s", strerror(errno));
		FUZZ_ASSERT(replacement_commit(&r, (h >> 41) & 1, &err_temp) == 0, "replacement_commit: %s",
			    err_temp.message);
		FUZZ_ASSERT(stray_files(stray, sizeof stray) == 0, "replaced and left %s", stray);
		int check_fd = open(domxml, O_RDONLY | O_CLOEXEC);
		FUZZ_ASSERT(check_fd >= 0, "%s: %s", domxml, strerror(errno));
		struct stat st;
		FUZZ_ASSERT(fstat(check_fd, &st) == 0 && (st.st_mode & 07777) == mode,
			    "the domain file has mode %o, it had %o", (unsigned)(st.st_mode & 07777), (unsigned)mode);
		size_t now_len;
		uint8_t *now = fuzz_slurp(check_fd, &now_len);
		close(check_fd);
		FUZZ_ASSERT(now_len == out_len && memcmp(now, out, out_len) == 0,
			    "the domain file is not xmlpatch_stream's output");
		free(now);
	} else {
		replacement_abandon(&r);
		if (!fuzz_known_bugs())
			fuzz_check_message("xmlpatch_stream into the temporary file", temp_err.message);
		FUZZ_ASSERT(stray_files(stray, sizeof stray) == 0, "failed and left %s", stray);
		int check_fd = open(domxml, O_RDONLY | O_CLOEXEC);
		FUZZ_ASSERT(check_fd >= 0, "%s: %s", domxml, strerror(errno));
		size_t now_len;
		uint8_t *now = fuzz_slurp(check_fd, &now_len);
		close(check_fd);
		FUZZ_ASSERT(now_len == size && memcmp(now, data, size) == 0, "the domain file was changed");
		free(now);
	}
	free(out);
	return 0;
}
