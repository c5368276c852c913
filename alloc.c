/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The allocator of the musl build (the Makefile links it, with
 * HOSTUSB_OWN_ALLOCATOR defined, in place of the C library's where the C
 * library is not glibc; anything else compiles it to nothing, so a build of
 * every *.c keeps its C library's allocator), so that musl's (7 KiB of
 * code) stays out of the program.  A run makes a few dozen allocations.
 * Blocks of up to 32 KiB (a journal keeps one of 125 bytes for every bus it
 * names, up to 1,000; the tokenizer's memory, 27 KiB; the window over a
 * domain file of less than 27 KiB) are cut one after the other from 64 KiB
 * arenas, so that they do not cost two system calls each (a mapping made
 * and unmapped costs about 5 us in a virtual machine); an arena is unmapped
 * when its last block is freed, or used again from its start if it is the
 * one blocks are being cut from.  A larger block (the window over a larger
 * document) is an anonymous mapping of its own, unmapped by free, moved by
 * realloc (mremap), and zero from the kernel.  The one arena being cut from is this file's only
 * state, as the C library's allocator has its own.
 */
#ifdef HOSTUSB_OWN_ALLOCATOR
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SMALL_MAX   32768u        /* the largest block cut from an arena */
#define ARENA_BYTES 65536u

struct arena {
	_Alignas(max_align_t) size_t used;  /* bytes cut, this header included */
	size_t live;                        /* blocks not freed yet */
};

/* Before each block; its alignment keeps the block aligned for any type. */
struct block {
	_Alignas(max_align_t) size_t len;  /* of the mapping, header included; of the block when in an arena */
	struct arena *arena;               /* NULL: a mapping of its own */
};

static struct arena *cutting;  /* the arena small blocks are cut from */

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void *small_block(size_t size)
{
	size_t need = sizeof(struct block) + (size + sizeof(struct block) - 1) / sizeof(struct block) * sizeof(struct block);
	if (!cutting || cutting->used + need > ARENA_BYTES) {
		struct arena *fresh = map(ARENA_BYTES);
		if (!fresh)
			return NULL;
		if (cutting && cutting->live == 0)
			(void)munmap(cutting, ARENA_BYTES);
		cutting = fresh;
		cutting->used = sizeof *cutting;
		cutting->live = 0;
	}
	struct block *b = (struct block *)((char *)cutting + cutting->used);
	cutting->used += need;
	cutting->live++;
	*b = (struct block){ .len = size, .arena = cutting };
	return b + 1;
}

void *malloc(size_t size)
{
	if (size <= SMALL_MAX)
		return small_block(size);
	if (size > PTRDIFF_MAX - sizeof(struct block)) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = size + sizeof(struct block);
	struct block *b = map(len);
	if (!b)
		return NULL;
	*b = (struct block){ .len = len, .arena = NULL };
	return b + 1;
}

/* A small block may be one used before: cleared; a mapping of its own is zero. */
void *calloc(size_t count, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = malloc(total);
	if (p && total <= SMALL_MAX)
		memset(p, 0, total);
	return p;
}

/* munmap of a mapping this file made fails only on a pointer that is not a block's: nothing to report. */
void free(void *p)
{
	if (!p)
		return;
	struct block *b = (struct block *)p - 1;
	struct arena *a = b->arena;
	if (!a) {
		(void)munmap(b, b->len);
		return;
	}
	if (--a->live > 0)
		return;
	if (a == cutting)
		a->used = sizeof *a;  /* cut again from its start */
	else
		(void)munmap(a, ARENA_BYTES);
}

void *realloc(void *p, size_t size)
{
	if (!p)
		return malloc(size);
	struct block *b = (struct block *)p - 1;
	if (b->arena || size <= SMALL_MAX) {
		size_t had = b->arena ? b->len : b->len - sizeof *b;
		void *q = malloc(size);
		if (q) {
			memcpy(q, p, had < size ? had : size);
			free(p);
		}
		return q;
	}
	if (size > PTRDIFF_MAX - sizeof *b) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = size + sizeof *b;
	struct block *moved = mremap(b, b->len, len, MREMAP_MAYMOVE);
	if (moved == MAP_FAILED)
		return NULL;
	moved->len = len;
	return moved + 1;
}
#endif
