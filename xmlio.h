/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_XMLIO_H
#define HOSTUSB_XMLIO_H
/*
 * The XML patcher's window over the document and its output: reads the
 * document in chunks through a read(2)-like function, validates each chunk
 * (UTF-8, the characters XML allows, newlines counted as it goes), writes
 * out what is done, keeps what an edit may still need, stages inserted text,
 * and words refusals with the line and column of a document offset.  Knows
 * no markup.  Used by the tokenizer (xmltok.c) and the splice (xmlpatch.c),
 * once per chunk or per inserted line; the byte searches below are inline,
 * for the loops over bytes.
 */
#include "xmlpatch.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
	CHUNK = 64 * 1024, /* bytes read at a time */
	KEEP = 512,        /* bytes of the previous chunk kept: a tag's '<' is still at hand */
	STAGE = 4096,      /* buffer for the inserted text */
	SLACK = 16,        /* bytes after the window and names that the tokenizer's copies may touch */
	IO_WINDOW = KEEP + CHUNK + SLACK, /* bytes of the largest window, which the caller provides */
	CHUNK_MIN = 4096,  /* the least a window reads at a time */
};

#define NONE ((size_t)-1)
#define NO_OFFSET (~0ull)

/* ---- io: the window over the document, the output, error positions ---- */

/* A UTF-8 character being read: what its next byte may be. */
struct utf8 {
	unsigned need;                   /* continuation bytes still expected */
	unsigned char lead, lo, hi;      /* its first byte; range allowed for the next one */
};

struct io {
	int in_fd, out_fd;
	ssize_t (*read)(int fd, void *buf, size_t count);
	struct xmlpatch_error *err;

	/* buf[0, len) is the document from offset abs.  The tokenizer reads
	 * buf[pos, checked); the document before offset written is written. */
	unsigned char *buf;
	size_t chunk;                    /* bytes read at most at a time: buf has KEEP + chunk + SLACK */
	size_t len, pos;
	unsigned long long abs, written;

	/* buf[0, checked) is valid and ends with a whole character; buf[bad] is
	 * not valid (bad is NONE while all is) */
	size_t checked, bad;
	struct utf8 utf8;
	unsigned long long newlines;     /* '\n' in the document before buf[checked] */
	unsigned long long line_before;  /* offset after the last '\n' before buf[0] */
	const char *newline;             /* "\n" or "\r\n", as the first newline; NULL before it */

	/* the inserted text, staged and written in blocks */
	char *stage;
	size_t stage_size, stage_len;
	unsigned long long emitted;      /* bytes emitted since it was last set to 0 */
};

/*
 * The chunk a window over fd needs: CHUNK, or for a regular file smaller
 * than that its size (at least CHUNK_MIN).  A page is faulted in when it is
 * first touched (about 2 us each in a virtual machine), and the buffers
 * after a window that is not larger than the document share its pages.
 */
size_t io_chunk_for(int fd);

/*
 * Ready to read in_fd (through rd, or read(2) when NULL) and write out_fd,
 * at most chunk bytes (CHUNK_MIN to CHUNK) at a time; window: KEEP + chunk
 * + SLACK bytes, stage: stage_size bytes (1 to STAGE), both the caller's.
 */
void io_init(struct io *io, int in_fd, int out_fd, ssize_t (*rd)(int fd, void *buf, size_t count),
	     struct xmlpatch_error *err, unsigned char *window, size_t chunk, char *stage, size_t stage_size);

/*
 * Writes the document up to offset keep (NO_OFFSET: all of the window), the
 * first byte an edit may still need; keeps the last KEEP bytes, and any from
 * keep on; reads the next chunk.  Returns bytes read, 0 at the end, -1 on
 * error.  keep is never more than KEEP bytes back.
 */
ssize_t io_refill(struct io *io, unsigned long long keep);

/* Validates what io_refill() read: sets checked, and bad at an invalid byte. */
void io_validate(struct io *io);

/* The byte at bad refused; after_root: between markup after the root element. */
int io_fail_invalid_byte(struct io *io, bool after_root);

/* At the end of the document: no character cut short. */
int io_check_utf8_end(struct io *io);

/* Output: the document up to offset upto (in the window); leaving it out; text inserted. */
int io_copy_to(struct io *io, unsigned long long upto);
void io_drop_to(struct io *io, unsigned long long upto);
int io_emit_blocks(struct io *io, const char *s, size_t n);
/* Inline while the text fits in the stage: it comes in short pieces. */
static inline int io_emit(struct io *io, const char *s, size_t n)
{
	if (n > io->stage_size - io->stage_len)
		return io_emit_blocks(io, s, n);
	memcpy(io->stage + io->stage_len, s, n);
	io->stage_len += n;
	io->emitted += n;
	return 0;
}
int io_emit_str(struct io *io, const char *s);
int io_emit_flush(struct io *io);

/* '\n' bytes in s[0, n). */
size_t io_count_newlines(const unsigned char *s, size_t n);
/* The line (1-based) of document offset at, which is in the window. */
unsigned long io_line(const struct io *io, unsigned long long at);

/* Refusals: "line L:C: " and the reason, for document offset at; -1. */
__attribute__((format(printf, 4, 5)))
int io_refuse_at(struct io *io, enum xmlpatch_refusal kind, unsigned long long at, const char *fmt, ...);
/* Not well formed; past a limit of the patcher, or a feature it does not support. */
#define fail_at(io, ...) io_refuse_at((io), XMLPATCH_MALFORMED, __VA_ARGS__)
#define limit_at(io, ...) io_refuse_at((io), XMLPATCH_LIMIT, __VA_ARGS__)
/* Reading, writing or allocating failed: "what: strerror(errno)"; -1. */
int io_fail(struct io *io, const char *what);

/* How much of a name or value a message quotes. */
static inline int shown(size_t len)
{
	return (int)(len < 40 ? len : 40);
}

/* Byte searches: SSE2 where there is SSE2, eight bytes at a time elsewhere. */

#ifndef __SSE2__
#define BYTES_OF(b) (0x0101010101010101ull * (unsigned char)(b))

/* Nonzero when some byte of w is zero (false positives only after a true one). */
static inline uint64_t zero_byte(uint64_t w)
{
	return (w - BYTES_OF(1)) & ~w & BYTES_OF(0x80);
}
#endif

/* Index of the first a, b or c in s[0, n), or n.  Inlined: the hot loops call it on short spans. */
static inline __attribute__((always_inline)) size_t find_any3(const unsigned char *s, size_t n, unsigned char a,
							      unsigned char b, unsigned char c)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b),
		      vc = _mm_set1_epi8((char)c);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
					   _mm_cmpeq_epi8(v, vc));
		unsigned mask = (unsigned)_mm_movemask_epi8(hit);
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
#else
	for (uint64_t w; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (zero_byte(w ^ BYTES_OF(a)) | zero_byte(w ^ BYTES_OF(b)) | zero_byte(w ^ BYTES_OF(c)))
			break;
	}
#endif
	while (i < n && s[i] != a && s[i] != b && s[i] != c)
		i++;
	return i;
}

#endif
