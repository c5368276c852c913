/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The allocator of the musl build (the Makefile links it, with
 * HOSTUSB_OWN_ALLOCATOR defined, in place of the C library's where the C
 * library is not glibc; anything else compiles it to nothing, so a build of
 * every *.c keeps its C library's allocator): every block is an anonymous
 * mapping of its own, its length in a header before it.  A run makes a few
 * dozen allocations, the big ones (the XML window, the tokenizer, the
 * journal, the device list) page-sized or larger anyway, so a page per block
 * costs no more than a general allocator would, and musl's (7 KiB of code)
 * stays out of the program.  It keeps no state: free unmaps, realloc moves
 * the pages (mremap), and the kernel's pages are zero, so calloc clears
 * nothing.
 */
#ifdef HOSTUSB_OWN_ALLOCATOR
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Before each block; its alignment keeps the block aligned for any type. */
struct block {
	_Alignas(max_align_t) size_t len;  /* of the mapping, header included */
};

/* The mapping's length for a block of size bytes; 0 when that is too large. */
static size_t mapping_len(size_t size)
{
	if (size > PTRDIFF_MAX - sizeof(struct block)) {
		errno = ENOMEM;
		return 0;
	}
	return size + sizeof(struct block);
}

void *malloc(size_t size)
{
	size_t len = mapping_len(size);
	if (len == 0)
		return NULL;
	struct block *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->len = len;
	return b + 1;
}

void *calloc(size_t count, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(count, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(total);
}

void *realloc(void *p, size_t size)
{
	if (!p)
		return malloc(size);
	size_t len = mapping_len(size);
	if (len == 0)
		return NULL;
	struct block *b = (struct block *)p - 1;
	struct block *moved = mremap(b, b->len, len, MREMAP_MAYMOVE);
	if (moved == MAP_FAILED)
		return NULL;
	moved->len = len;
	return moved + 1;
}

/* munmap of a mapping this file made fails only on a pointer that is not a block's: nothing to report. */
void free(void *p)
{
	if (p) {
		struct block *b = (struct block *)p - 1;
		(void)munmap(b, b->len);
	}
}
#endif
