/*-------------------------------------------------------------------------
 *
 * hex.h
 *	  The value of one hexadecimal digit, for readers that must refuse bad
 *	  input instead of raising (PostgreSQL's hex_decode raises).
 *
 * Plain C, so that the fuzz harnesses compile it without the backend.
 *
 * Copyright (c) 2026, the orion authors
 *
 * src/common/hex.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ORION_HEX_H
#define ORION_HEX_H

/* 0 to 15 for a digit of either case, -1 for anything else. */
static inline int
OrionHexDigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* ORION_HEX_H */
