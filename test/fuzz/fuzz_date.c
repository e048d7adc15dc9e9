/*-------------------------------------------------------------------------
 *
 * fuzz_date.c
 *	  libFuzzer harness for FlagParseDate in src/flags/flag_value.c: the ISO 8601
 *	  dates of the DATE_AFTER / DATE_BEFORE constraint operators and of the
 *	  currentTime context field.
 *
 * The harness checks, for any text:
 *
 * - acceptance equals a recognizer written here from the documented form,
 *	 YYYY[-MM[-DD[(T|t| )HH:MM[:SS[.fraction]][Z|z|(+|-)HH[:]MM]]]], with
 *	 real calendar dates, hours to 24 (24:00 only), minutes and seconds to
 *	 59, offsets to 23:59;
 * - the value equals the one glibc's timegm gives for those fields (UTC,
 *	 less the offset), to the millisecond, finer digits dropped;
 * - every millisecond timestamp of years 0000 to 9999, printed as
 *	 YYYY-MM-DDTHH:MM:SS.mmmZ (or with an offset, a space, lower case),
 *	 reads back as itself.
 *
 * Input: the text; its first 8 bytes are also a timestamp to print and read.
 *
 * Copyright (c) 2026, the orion authors
 *
 * test/fuzz/fuzz_date.c
 *
 *-------------------------------------------------------------------------
 */
#include "shim.h"

#include <time.h>

#include "flags/flag_value.h"

/* Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
#define PG_EPOCH_UNIX_SECONDS INT64CONST(946684800)

static bool
IsDigitAt(const char *s, size_t len, size_t i)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

static int
Number(const char *s, size_t at, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[at + i] - '0');
	return v;
}

static bool
DigitsAt(const char *s, size_t len, size_t at, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (!IsDigitAt(s, len, at + i))
			return false;
	return true;
}

static bool
Leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The documented form, and the timestamp timegm gives for it. */
static bool
ReferenceDate(const char *s, TimestampTz *out)
{
	static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t		len = strlen(s);
	size_t		i;
	int			year,
				month = 1,
				day = 1,
				hour = 0,
				minute = 0,
				second = 0,
				millis = 0,
				offset = 0;
	struct tm	tm;
	time_t		t;

	if (!DigitsAt(s, len, 0, 4))
		return false;
	year = Number(s, 0, 4);
	i = 4;
	if (i < len && s[i] == '-' && DigitsAt(s, len, i + 1, 2))
	{
		month = Number(s, i + 1, 2);
		i += 3;
		if (i < len && s[i] == '-' && DigitsAt(s, len, i + 1, 2))
		{
			day = Number(s, i + 1, 2);
			i += 3;
			if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' '))
			{
				if (!DigitsAt(s, len, i + 1, 2) || i + 3 >= len || s[i + 3] != ':' ||
					!DigitsAt(s, len, i + 4, 2))
					return false;
				hour = Number(s, i + 1, 2);
				minute = Number(s, i + 4, 2);
				i += 6;
				if (i < len && s[i] == ':')
				{
					if (!DigitsAt(s, len, i + 1, 2))
						return false;
					second = Number(s, i + 1, 2);
					i += 3;
					if (i < len && s[i] == '.')
					{
						size_t		first = ++i;
						int			kept = 0;

						/* milliseconds: the first three digits, .5 being 500 */
						for (; IsDigitAt(s, len, i); i++)
							if (kept < 3)
								millis = millis * 10 + (s[i] - '0'), kept++;
						if (i == first)
							return false;
						for (; kept < 3; kept++)
							millis *= 10;
					}
				}
				if (i < len && (s[i] == 'Z' || s[i] == 'z'))
					i++;
				else if (i < len && (s[i] == '+' || s[i] == '-'))
				{
					int			sign = s[i] == '-' ? -1 : 1;
					int			oh,
								om;

					if (!DigitsAt(s, len, i + 1, 2))
						return false;
					oh = Number(s, i + 1, 2);
					i += 3;
					if (i < len && s[i] == ':')
						i++;
					if (!DigitsAt(s, len, i, 2))
						return false;
					om = Number(s, i, 2);
					i += 2;
					if (oh > 23 || om > 59)
						return false;
					offset = sign * (oh * 60 + om);
				}
			}
		}
		else if (i < len && s[i] == '-')
			return false;
	}
	else if (i < len && s[i] == '-')
		return false;
	if (i != len || month < 1 || month > 12 || day < 1 ||
		day > month_days[month - 1] + (month == 2 && Leap(year)) ||
		hour > 24 || minute > 59 || second > 59 ||
		(hour == 24 && (minute != 0 || second != 0 || millis != 0)))
		return false;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	t = timegm(&tm);
	*out = ((int64) t - PG_EPOCH_UNIX_SECONDS - (int64) offset * 60) * INT64CONST(1000000) +
		(int64) millis * 1000;
	return true;
}

/* Print ts (whole milliseconds) in ISO 8601 with the given offset in minutes. */
static char *
Format(TimestampTz ts, int offset, int style)
{
	int64		ms = ts / 1000;
	int64		local_ms = ms + (int64) offset * 60000;
	time_t		secs = (time_t) ((local_ms - (((local_ms % 1000) + 1000) % 1000)) / 1000 + PG_EPOCH_UNIX_SECONDS);
	int			millis = (int) (((local_ms % 1000) + 1000) % 1000);
	struct tm	tm;
	const char *zone;

	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return NULL;
	if (offset == 0 && style % 2 == 0)
		zone = style == 0 ? "Z" : "z";
	else
		zone = psprintf("%c%02d%s%02d", offset < 0 ? '-' : '+', abs(offset) / 60,
						style % 2 ? ":" : "", abs(offset) % 60);
	return psprintf("%04d-%02d-%02d%c%02d:%02d:%02d.%03d%s", tm.tm_year + 1900, tm.tm_mon + 1,
					tm.tm_mday, style == 2 ? ' ' : style == 3 ? 't' : 'T',
					tm.tm_hour, tm.tm_min, tm.tm_sec, millis, zone);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = pnstrdup((const char *) data, size);
	TimestampTz got = 0;
	TimestampTz want = 0;
	bool		ok = FlagParseDate(s, &got);
	bool		want_ok = ReferenceDate(s, &want);

	FUZZ_CHECK(ok == want_ok, "\"%s\": orion %s, the documented form %s", s,
			   ok ? "accepts" : "refuses", want_ok ? "accepts" : "refuses");
	if (ok)
		FUZZ_CHECK(got == want, "\"%s\": orion " INT64_FORMAT ", timegm " INT64_FORMAT,
				   s, got, want);

	if (size >= 8)
	{
		int64		raw;
		/* years 0000..9999 span about 6.3e17 microseconds around 2000 */
		const int64 span = INT64CONST(315537897600000000);
		TimestampTz ts;
		int			offset = size >= 10 ? ((data[8] | data[9] << 8) % (2 * 1440 - 1)) - 1439 : 0;
		int			style = size >= 11 ? data[10] % 4 : 0;
		char	   *text;
		TimestampTz back = 0;

		memcpy(&raw, data, sizeof(raw));
		ts = (TimestampTz) ((uint64) raw % (uint64) (2 * span)) - span;
		ts -= ((ts % 1000) + 1000) % 1000;	/* whole milliseconds */
		text = Format(ts, offset, style);
		if (text != NULL)
			FUZZ_CHECK(FlagParseDate(text, &back) && back == ts,
					   "\"%s\" (" INT64_FORMAT ") reads back as " INT64_FORMAT, text, ts, back);
	}
	FuzzShimReset();
	return 0;
}
