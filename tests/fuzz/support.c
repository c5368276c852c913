/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Support shared by the fuzz targets and the replay program; see fuzz.h. */
#include "fuzz.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FUZZ_LIBFUZZER
/* Set by the replay program around each input. */
extern jmp_buf fuzz_replay_jump;
extern char fuzz_replay_reason[512];
#endif

void fuzz_fail(const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	for (char *c = reason; *c; c++)  /* one line, whatever the input held */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
#ifdef FUZZ_LIBFUZZER
	fprintf(stderr, "INVARIANT FAILED: %s\n", reason);
	abort();
#else
	memcpy(fuzz_replay_reason, reason, sizeof reason);
	longjmp(fuzz_replay_jump, 1);
#endif
}

int fuzz_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0, "memfd_create: %s", strerror(errno));
	return fd;
}

void fuzz_memfd_set(int fd, const void *data, size_t size)
{
	FUZZ_ASSERT(ftruncate(fd, 0) == 0, "ftruncate: %s", strerror(errno));
	const char *p = data;
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(fd, p + done, size - done, (off_t)done);
		FUZZ_ASSERT(n > 0, "pwrite: %s", strerror(errno));
		done += (size_t)n;
	}
	FUZZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
}

uint8_t *fuzz_slurp(int fd, size_t *size)
{
	struct stat st;
	FUZZ_ASSERT(fstat(fd, &st) == 0, "fstat: %s", strerror(errno));
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len + 1);
	FUZZ_ASSERT(buf != NULL, "out of memory");
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)done);
		FUZZ_ASSERT(n > 0, "pread: %s", n < 0 ? strerror(errno) : "file shrank");
		done += (size_t)n;
	}
	buf[len] = 0;
	*size = len;
	return buf;
}

/* ---- what a refusal says ---- */

void fuzz_check_message(const char *what, const char *message)
{
	size_t len = strlen(message);
	FUZZ_ASSERT(len > 0 && len < 1024, "%s: message of %zu bytes: [%s]", what, len, message);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)message[i];
		FUZZ_ASSERT(c >= 0x20 && c < 0x7f, "%s: byte 0x%02x at %zu of the message: [%s]", what, c, i,
			    message);
	}
}

/* ---- short reads ---- */

static uint64_t read_state;

void fuzz_read_pattern(uint64_t seed)
{
	read_state = seed;
}

ssize_t fuzz_read(int fd, void *buf, size_t count)
{
	if (read_state != 0 && count > 1) {
		/* xorshift: a new length for every read, 1 to 1100 bytes, often near KEEP */
		read_state ^= read_state << 13;
		read_state ^= read_state >> 7;
		read_state ^= read_state << 17;
		static const size_t lengths[] = { 1, 2, 3, 7, 64, 511, 512, 513, 1024, 1100 };
		size_t limit = lengths[read_state % (sizeof lengths / sizeof lengths[0])];
		if ((read_state >> 8) % 4 == 0)
			limit = 1 + (size_t)((read_state >> 16) % 1100);
		if (count > limit)
			count = limit;
	}
	return read(fd, buf, count);
}

uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	return h;
}

int fuzz_known_bugs(void)
{
	const char *v = getenv("FUZZ_KNOWN_BUGS");
	return v && strcmp(v, "1") == 0;
}

static void (*at_end)(void);

void fuzz_at_end(void (*fn)(void))
{
	at_end = fn;
}

void fuzz_run_at_end(void)
{
	if (at_end)
		at_end();
}
