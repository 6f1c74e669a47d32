/*
 * The direct route's single pass over a piece of capture lines (capture/direct_scan.py builds and loads it).
 *
 * One loop reads each line as its layout says it is (capture/direct.py): every envelope text compared byte
 * for byte, every payload value checked and classed as it is read, and every wanted value written as an
 * Arrow string view pointing into the piece's own bytes (values of up to 12 bytes are held in the view
 * itself). The first line that is not of the layout stops the pass (-1): the piece then takes the polars
 * routes, which sort good lines from bad.
 *
 * What a line must be is what direct.split_piece checks with polars patterns, and a little less: values
 * here must be ASCII (a piece with another byte in a value takes the polars route). Deequ's classes
 * (analysis/types.py) are decided by hand-written matchers of the same patterns.
 *
 * Plain C with no Python API, called through ctypes (which releases the GIL for the call).
 */
#include <stdint.h>
#include <string.h>

/* Field kinds of a template; value classes (NUL: an empty value, read as null). Kept in step with
   capture/direct_scan.py. */
enum { FIXED = 0, CSV_VALUE = 1, JSON_VALUE = 2, PLAIN_VALUE = 3 };
enum { NUL = 0, INTEGRAL = 1, FRACTIONAL = 2, BOOLEAN = 3, STRING = 4 };

static inline int64_t digits_end(const uint8_t *d, int64_t i, int64_t end) {
    while (i < end && d[i] >= '0' && d[i] <= '9') i++;
    return i;
}

/* BOOLEAN for exactly "true" or "false" (Deequ's pattern), else STRING. */
static inline int boolean_or_string(const uint8_t *d, int64_t a, int64_t b) {
    if (b - a == 4 && memcmp(d + a, "true", 4) == 0) return BOOLEAN;
    if (b - a == 5 && memcmp(d + a, "false", 5) == 0) return BOOLEAN;
    return STRING;
}

/* Deequ's class of d[a:b]: (-|\+)? ?[0-9]+ then nothing (INTEGRAL) or \.[0-9]+, [Ee][-+]?[0-9]+ or both
   (FRACTIONAL); true/false (BOOLEAN); empty (NUL); anything else STRING. */
static inline int deequ_class(const uint8_t *d, int64_t a, int64_t b) {
    if (a == b) return NUL;
    int64_t i = a, j;
    if (d[i] == '-' || d[i] == '+') i++;
    if (i < b && d[i] == ' ') i++;
    j = digits_end(d, i, b);
    if (j == i) return boolean_or_string(d, a, b);
    if (j == b) return INTEGRAL;
    i = j;
    if (d[i] == '.') {
        j = digits_end(d, i + 1, b);
        if (j == i + 1) return STRING;
        if (j == b) return FRACTIONAL;
        i = j;
    }
    if (d[i] == 'e' || d[i] == 'E') {
        i++;
        if (i < b && (d[i] == '+' || d[i] == '-')) i++;
        j = digits_end(d, i, b);
        if (j > i && j == b) return FRACTIONAL;
    }
    return STRING;
}

/* INTEGRAL or FRACTIONAL for a number of JSON's grammar (each is also Deequ's class), NUL for anything else. */
static inline int json_number_class(const uint8_t *d, int64_t a, int64_t b) {
    int64_t i = a, j;
    int kind = INTEGRAL;
    if (i < b && d[i] == '-') i++;
    if (i >= b) return NUL;
    if (d[i] == '0') i++;
    else if (d[i] >= '1' && d[i] <= '9') i = digits_end(d, i, b);
    else return NUL;
    if (i < b && d[i] == '.') {
        j = digits_end(d, i + 1, b);
        if (j == i + 1) return NUL;
        i = j;
        kind = FRACTIONAL;
    }
    if (i < b && (d[i] == 'e' || d[i] == 'E')) {
        i++;
        if (i < b && (d[i] == '+' || d[i] == '-')) i++;
        j = digits_end(d, i, b);
        if (j == i) return NUL;
        i = j;
        kind = FRACTIONAL;
    }
    return i == b ? kind : NUL;
}

/* No quote, backslash, control character or non-ASCII byte (nor a comma when asked) in d[a:b]: nothing JSON
   would have escaped, so the line is the JSON its fields say it is. */
static inline int plain(const uint8_t *d, int64_t a, int64_t b, int comma_too) {
    for (int64_t i = a; i < b; i++) {
        uint8_t c = d[i];
        if (c == '"' || c == '\\' || c < 32 || c >= 127 || (comma_too && c == ',')) return 0;
    }
    return 1;
}

/* Arrow's string view of d[a:b]: its length, then its bytes if 12 or fewer, else its first 4 bytes, buffer 0
   and its offset. */
static inline void put_view(uint32_t *views, int64_t slot, const uint8_t *d, int64_t a, int64_t b) {
    uint32_t *view = views + 4 * slot;
    uint32_t n = (uint32_t)(b - a);
    view[0] = n;
    view[1] = view[2] = view[3] = 0;
    if (n <= 12) {
        memcpy((uint8_t *)view + 4, d + a, n);
    } else {
        memcpy(view + 1, d + a, 4);
        view[3] = (uint32_t)a;
    }
}

/*
 * Reads every line of d[0:n] by the template; returns how many lines it has, or -1 when a line is not of
 * the template or there are more than max_lines.
 *
 * The template has one entry per comma-separated field f: kinds[f]; the text before its value
 * texts[bounds[2f]:bounds[2f+1]] (all of it for a FIXED field) and after it texts[bounds[2f+1]:bounds[2f+2]];
 * outputs[f], the output its value goes to (-1: none). Output o's view of line i is views[4 * (o * max_lines
 * + i)], its class classes[o * max_lines + i].
 */
int64_t watchkeeper_scan(const uint8_t *d, int64_t n, const int8_t *kinds, const int64_t *outputs, int64_t n_fields,
                         const uint8_t *texts, const int64_t *bounds, int64_t max_lines, uint32_t *views,
                         uint8_t *classes) {
    int64_t pos = 0, line = 0;
    if (n > INT32_MAX) return -1; /* a view's offset is 32 bits */
    while (pos < n) {
        if (line >= max_lines) return -1;
        for (int64_t f = 0; f < n_fields; f++) {
            int kind = kinds[f];
            int64_t before = bounds[2 * f], after = bounds[2 * f + 1], stop = bounds[2 * f + 2];
            if (pos + (after - before) > n || memcmp(d + pos, texts + before, after - before) != 0) return -1;
            int64_t a = pos + (after - before), end = a;
            if (kind != FIXED) {
                while (end < n && d[end] != ',' && d[end] != '\n') end++;
            }
            /* a comma ends every field but the last; a line end (or the data's end) the last */
            if (f == n_fields - 1) {
                if (end < n && d[end] != '\n') return -1;
            } else if (end >= n || d[end] != ',') {
                return -1;
            }
            if (kind != FIXED) {
                int64_t b = end - (stop - after);
                if (b < a || memcmp(d + b, texts + after, stop - after) != 0) return -1;
                int code = STRING;
                if (kind == JSON_VALUE) {
                    if (b - a >= 4 && d[a] == '\\' && d[a + 1] == '"' && d[b - 2] == '\\' && d[b - 1] == '"') {
                        /* a string, its quotes escaped in the line: the value is what lies between them */
                        a += 2;
                        b -= 2;
                        if (!plain(d, a, b, 1)) return -1;
                        code = deequ_class(d, a, b);
                    } else {
                        code = json_number_class(d, a, b);
                        if (code == NUL) {
                            code = boolean_or_string(d, a, b);
                            if (code != BOOLEAN) return -1; /* null, or not JSON */
                        }
                    }
                } else if (!plain(d, a, b, 0)) {
                    return -1;
                } else if (kind == CSV_VALUE) {
                    code = deequ_class(d, a, b);
                }
                if (outputs[f] >= 0) {
                    int64_t slot = outputs[f] * max_lines + line;
                    put_view(views, slot, d, a, b);
                    classes[slot] = (uint8_t)code;
                }
            }
            pos = end + 1;
        }
        line++;
    }
    return line;
}

/*
 * Copies the values of more than 12 bytes that `count` views point to in `d` into `out`, one after another,
 * and points the views at `out` instead (buffer 0 still): a column then holds only its own bytes, not the
 * whole piece. `out` must hold the sum of those values' lengths.
 */
void watchkeeper_compact(uint32_t *views, int64_t count, const uint8_t *d, uint8_t *out) {
    uint32_t at = 0;
    for (int64_t i = 0; i < count; i++) {
        uint32_t *view = views + 4 * i;
        if (view[0] > 12) {
            memcpy(out + at, d + view[3], view[0]);
            view[3] = at;
            at += view[0];
        }
    }
}

/* The number of lines in d[0:n] (a last line without a line end counts): what the views are sized by. */
int64_t watchkeeper_lines(const uint8_t *d, int64_t n) {
    int64_t lines = 0;
    const uint8_t *at = d, *end = d + n;
    while (at < end) {
        const uint8_t *found = memchr(at, '\n', (size_t)(end - at));
        lines++;
        if (!found) break;
        at = found + 1;
    }
    return lines;
}
