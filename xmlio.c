/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xmlio.c: the XML patcher's window over the document, its output and its
 * error positions (io), and the check of each chunk read (validate): UTF-8,
 * the characters XML allows, newlines counted as it goes.  See xmlio.h.
 */
#include "xmlio.h"
#include "format.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

size_t io_chunk_for(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= CHUNK)
		return CHUNK;
	return st.st_size > CHUNK_MIN ? (size_t)st.st_size : CHUNK_MIN;
}

void io_init(struct io *io, int in_fd, int out_fd, ssize_t (*rd)(int fd, void *buf, size_t count),
	     struct xmlpatch_error *err, unsigned char *window, size_t chunk, char *stage, size_t stage_size)
{
	*io = (struct io){ .in_fd = in_fd, .out_fd = out_fd, .read = rd ? rd : read, .err = err, .buf = window,
			   .chunk = chunk, .stage = stage, .stage_size = stage_size, .bad = NONE };
}

/* ---- the window over the document, the output, error positions ---- */

size_t io_count_newlines(const unsigned char *s, size_t n)
{
	size_t count = 0;
	const unsigned char *end = s + n, *q;
	while (s < end && (q = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		count++;
		s = q + 1;
	}
	return count;
}

/* Index of the last '\n' in s[0, n), or NONE. */
static size_t last_newline(const unsigned char *s, size_t n)
{
	const unsigned char *q = n ? memrchr(s, '\n', n) : NULL;
	return q ? (size_t)(q - s) : NONE;
}

/* Line and column of document offset at (clamped to the window). */
static void locate(const struct io *io, unsigned long long at, unsigned long *line, unsigned long *column)
{
	if (at < io->abs)
		at = io->abs;
	size_t idx = (size_t)(at - io->abs);
	if (idx > io->checked)
		idx = io->checked;
	size_t after = io_count_newlines(io->buf + idx, io->checked - idx);
	size_t nl = last_newline(io->buf, idx);
	unsigned long long line_begin = nl == NONE ? io->line_before : io->abs + nl + 1;
	*line = (unsigned long)(io->newlines - after + 1);
	*column = (unsigned long)(io->abs + idx - line_begin + 1);
}

unsigned long io_line(const struct io *io, unsigned long long at)
{
	unsigned long line, column;
	locate(io, at, &line, &column);
	return line;
}

/* "line L:C: " and the reason, for the document at offset at. */
__attribute__((format(printf, 4, 0)))
static void vfail_at(struct io *io, enum xmlpatch_refusal kind, unsigned long long at, const char *fmt, va_list ap)
{
	struct xmlpatch_error *e = io->err;
	e->kind = kind;
	locate(io, at, &e->line, &e->column);
	int n = format(e->message, sizeof e->message, "line %lu:%lu: ", e->line, e->column);
	if (n < 0 || (size_t)n >= sizeof e->message)
		return;
	if (vformat(e->message + n, sizeof e->message - (size_t)n, fmt, ap) < 0)
		e->message[n] = '\0';
	/* names and values quoted from the document may hold control bytes */
	for (char *c = e->message + n; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

int io_refuse_at(struct io *io, enum xmlpatch_refusal kind, unsigned long long at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(io, kind, at, fmt, ap);
	va_end(ap);
	return -1;
}

int io_fail(struct io *io, const char *what)
{
	io->err->kind = XMLPATCH_IO;
	io->err->line = io->err->column = 0;
	format(io->err->message, sizeof io->err->message, "%s: %s", what, strerror(errno));
	return -1;
}

static int write_out(struct io *io, const void *data, size_t n)
{
	const char *s = data;
	while (n > 0) {
		ssize_t w = write(io->out_fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return io_fail(io, "write");
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the document up to offset upto, which is in the window. */
int io_copy_to(struct io *io, unsigned long long upto)
{
	if (upto <= io->written)
		return 0;
	int r = write_out(io, io->buf + (io->written - io->abs), (size_t)(upto - io->written));
	io->written = upto;
	return r;
}

/* Leaves the document up to offset upto out of the output. */
void io_drop_to(struct io *io, unsigned long long upto)
{
	io->written = upto;
}

int io_emit_blocks(struct io *io, const char *s, size_t n)
{
	io->emitted += n;
	while (n > 0) {
		if (io->stage_len == io->stage_size) {
			if (write_out(io, io->stage, io->stage_size) < 0)
				return -1;
			io->stage_len = 0;
		}
		size_t room = io->stage_size - io->stage_len, take = n < room ? n : room;
		memcpy(io->stage + io->stage_len, s, take);
		io->stage_len += take;
		s += take;
		n -= take;
	}
	return 0;
}

int io_emit_str(struct io *io, const char *s)
{
	return io_emit(io, s, strlen(s));
}

int io_emit_flush(struct io *io)
{
	int r = write_out(io, io->stage, io->stage_len);
	io->stage_len = 0;
	return r;
}

/* Moves the window past its first discard bytes. */
static void slide(struct io *io, size_t discard)
{
	size_t nl = last_newline(io->buf, discard);
	if (nl != NONE)
		io->line_before = io->abs + nl + 1;
	memmove(io->buf, io->buf + discard, io->len - discard);
	io->abs += discard;
	io->len -= discard;
	io->pos -= discard;
	io->checked -= discard;
}

/*
 * Writes the document up to offset keep (NO_OFFSET: all of the window), the
 * first byte an edit may still need; keeps the last KEEP bytes, and any from
 * keep on; reads the next chunk.  Returns bytes read, 0 at the end, -1 on
 * error.  The tokenizer's keep is never more than KEEP bytes back.
 */
ssize_t io_refill(struct io *io, unsigned long long keep)
{
	size_t keep_at = keep == NO_OFFSET ? io->len : (size_t)(keep - io->abs);
	if (io_copy_to(io, io->abs + keep_at) < 0)
		return -1;
	size_t discard = io->len > KEEP ? io->len - KEEP : 0;
	if (keep_at < discard)
		discard = keep_at;
	if (discard > 0)
		slide(io, discard);
	size_t room = KEEP + io->chunk - io->len;
	for (;;) {
		ssize_t n = io->read(io->in_fd, io->buf + io->len, room < io->chunk ? room : io->chunk);
		if (n >= 0) {
			io->len += (size_t)n;
			/* Not a name character: the tokenizer's loop over names needs no
			 * bound.  Nor is the byte at checked when it is below len: the
			 * start of a cut character, or an invalid byte.  The SLACK bytes
			 * are all zeroed, for the tokenizer's block reads. */
			memset(io->buf + io->len, 0, SLACK);
			return n;
		}
		if (errno != EINTR)
			return io_fail(io, "read");
	}
}

/* ---- validate: UTF-8, control characters, newlines ---- */

/* Length of the prefix of s[0, n) made of bytes 0x20 to 0x7F. */
static size_t printable_ascii_span(const unsigned char *s, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	/* as signed bytes, both < 0x20 and >= 0x80 are less than 0x20 */
	const __m128i space = _mm_set1_epi8(0x20);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, space));
		if (mask)
			return i + (size_t)__builtin_ctz(mask);
	}
#else
	for (uint64_t w; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (((w - BYTES_OF(0x20)) | w) & BYTES_OF(0x80))
			break;
	}
#endif
	while (i < n && s[i] >= 0x20 && s[i] < 0x80)
		i++;
	return i;
}


static void note_newline(struct io *io, size_t i)
{
	io->newlines++;
	if (!io->newline)
		io->newline = i > 0 && io->buf[i - 1] == '\r' ? "\r\n" : "\n";
}

/*
 * Length of the prefix of s[0, n) made of the ASCII characters XML allows
 * (0x20 to 0x7F, tab, LF, CR); *newlines gets the LFs in it.  Used once the
 * document's newline is known: then newlines need not end the span.
 */
static size_t ascii_text_span(const unsigned char *s, size_t n, unsigned long long *newlines)
{
	size_t i = 0;
	unsigned long long count = 0;
#ifdef __SSE2__
	const __m128i space = _mm_set1_epi8(0x20), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
		      tab = _mm_set1_epi8('\t'), zero = _mm_setzero_si128();
	/* LFs counted in each byte of lanes (-1 per LF), summed before a byte can overflow */
	__m128i lanes = zero, sums = zero;
	unsigned blocks = 0;
	/* 64 bytes at a time while none but LF is below 0x20 (nor above 0x7F) */
	for (; i + 64 <= n; i += 64) {
		__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(s + i)),
			v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16)),
			v2 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 32)),
			v3 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 48));
		/* in each lane, minus the LFs and minus the bytes below 0x20 (of which LFs are some) */
		__m128i lfs = _mm_add_epi8(_mm_add_epi8(_mm_cmpeq_epi8(v0, lf), _mm_cmpeq_epi8(v1, lf)),
					   _mm_add_epi8(_mm_cmpeq_epi8(v2, lf), _mm_cmpeq_epi8(v3, lf)));
		__m128i lows = _mm_add_epi8(_mm_add_epi8(_mm_cmplt_epi8(v0, space), _mm_cmplt_epi8(v1, space)),
					    _mm_add_epi8(_mm_cmplt_epi8(v2, space), _mm_cmplt_epi8(v3, space)));
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(lfs, lows)) != 0xFFFF)
			break;  /* the loop below finishes this block */
		lanes = _mm_sub_epi8(lanes, lfs);
		blocks += 4;
		if (blocks >= 252) {
			sums = _mm_add_epi64(sums, _mm_sad_epu8(lanes, zero));
			lanes = zero;
			blocks = 0;
		}
	}
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i)), is_lf = _mm_cmpeq_epi8(v, lf);
		/* as signed bytes, both < 0x20 and >= 0x80 are less than 0x20 */
		unsigned low = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, space));
		unsigned lfs = (unsigned)_mm_movemask_epi8(is_lf);
		if (low != lfs) {
			__m128i other = _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, tab));
			unsigned stop = low & ~lfs & ~(unsigned)_mm_movemask_epi8(other);
			if (stop)
				break;  /* the bytes below finish this block */
		}
		lanes = _mm_sub_epi8(lanes, is_lf);
		if (++blocks >= 255) {
			sums = _mm_add_epi64(sums, _mm_sad_epu8(lanes, zero));
			lanes = zero;
			blocks = 0;
		}
	}
	sums = _mm_add_epi64(sums, _mm_sad_epu8(lanes, zero));
	count = (unsigned long long)_mm_cvtsi128_si64(sums) +
		(unsigned long long)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
#endif
	for (; i < n && ((s[i] >= 0x20 && s[i] < 0x80) || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'); i++)
		count += s[i] == '\n';
	*newlines += count;
	return i;
}

/* Sets the lead byte's constraints, or returns false if c cannot start a character. */
static bool utf8_lead(struct utf8 *u, unsigned char c)
{
	u->lead = c;
	u->lo = 0x80;
	u->hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		u->need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		u->need = 2;
		if (c == 0xE0)
			u->lo = 0xA0;  /* overlong */
		else if (c == 0xED)
			u->hi = 0x9F;  /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		u->need = 3;
		if (c == 0xF0)
			u->lo = 0x90;
		else if (c == 0xF4)
			u->hi = 0x8F;  /* beyond U+10FFFF */
	} else {
		return false;
	}
	return true;
}

/*
 * Validates buf[checked, len): characters XML allows, in UTF-8 (so not
 * U+FFFE, U+FFFF).  Stops before a character cut by the end of the window
 * (read again with the next chunk), and at an invalid byte (bad).
 */
void io_validate(struct io *io)
{
	struct utf8 *u = &io->utf8;
	size_t i = io->checked, end = io->len, start = i;
	while (i < end) {
		if (u->need == 0) {
			i += io->newline ? ascii_text_span(io->buf + i, end - i, &io->newlines)
					 : printable_ascii_span(io->buf + i, end - i);
			if (i >= end)
				break;
			start = i;
		}
		unsigned char c = io->buf[i];
		if (u->need > 0) {
			if (c < u->lo || c > u->hi)
				break;
			u->need--;
			u->lo = 0x80;
			/* EF BF BE and EF BF BF are U+FFFE and U+FFFF */
			u->hi = u->need == 1 && u->lead == 0xEF && c == 0xBF ? 0xBD : 0xBF;
		} else if (c >= 0x80) {
			if (!utf8_lead(u, c))
				break;
		} else if (c == '\n') {
			note_newline(io, i);
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			break;
		}
		i++;
	}
	io->bad = i < end ? i : NONE;
	io->checked = u->need > 0 ? start : i;
	u->need = 0;
}

/* after_root: between markup after the root element, where libxml2 takes a NUL byte for the end. */
int io_fail_invalid_byte(struct io *io, bool after_root)
{
	io->checked = io->bad;  /* the bytes before it in its character, for locate() */
	unsigned long long at = io->abs + io->bad;
	unsigned char c = io->buf[io->bad];
	if ((at == 0 && (c == 0xFE || c == 0xFF)) || (at < 4 && c == 0))
		return limit_at(io, at, "document is not UTF-8 (UTF-16 or UTF-32?)");
	if (c == 0 && after_root)
		return limit_at(io, at, "NUL byte after the root element (not supported)");
	if (c < 0x20)
		return fail_at(io, at, "control character 0x%02X is not allowed in XML", c);
	if ((c == 0xBE || c == 0xBF) && io->bad >= 2 && io->buf[io->bad - 2] == 0xEF && io->buf[io->bad - 1] == 0xBF)
		return fail_at(io, at - 2, "character U+%s is not allowed in XML", c == 0xBE ? "FFFE" : "FFFF");
	return fail_at(io, at, "invalid UTF-8 (byte 0x%02X)", c);
}

int io_check_utf8_end(struct io *io)
{
	if (io->checked == io->len)
		return 0;
	io->checked = io->len;
	return fail_at(io, io->abs + io->len, "invalid UTF-8 (truncated at the end of the document)");
}
