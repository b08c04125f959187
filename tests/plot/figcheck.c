/*
 * figcheck.c - checks what a drawn figure really contains, for the plot
 * tests: the number of point markers and bars in an SVG (PLplot's svg
 * device writes each filled shape as a polyline with a fill-rule), whether
 * it holds a line of exactly N vertices, the text of its labels, the size of
 * a PNG from its IHDR chunk, and a PDF's header.
 *
 * usage: figcheck FILE [--markers N] [--bars N] [--line N]... [--text STRING]... [--png WxH] [--pdf]
 * Exits 0 when every check holds, 1 with a line per failed check otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A point marker is a 16-gon, closed by repeating its first vertex
 * (MARKER_VERTICES in lib/plot/plot.c); a bar is a closed rectangle. */
#define MARKER_POINTS 17
#define BAR_POINTS 5

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf != NULL && (got = fread(buf + n, 1, cap - n, fp)) > 0;) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(fp);
    if (buf != NULL)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* Count filled shapes with `points` vertices; `coloured` skips white fills. */
static size_t count_fills(const char *svg, size_t points, int coloured)
{
    size_t count = 0;
    for (const char *p = svg; (p = strstr(p, "<polyline")) != NULL; p++) {
        const char *end = strstr(p, "/>");
        if (end == NULL)
            break;
        const char *rule = strstr(p, "fill-rule=");
        const char *pts = strstr(p, "points=\"");
        if (rule == NULL || rule > end || pts == NULL || pts > end)
            continue;
        if (coloured) {
            const char *fill = strstr(p, "fill=\"#");
            if (fill != NULL && fill < end && strncmp(fill + 7, "FFFFFF", 6) == 0)
                continue;
        }
        size_t n = 0;
        for (const char *q = pts + 8; q < end && *q != '"'; q++)
            n += *q == ',';
        count += n == points;
    }
    return count;
}

/* The value of attribute `name` (e.g. "stroke=\"") inside [p, end), or NULL. */
static const char *attribute(const char *p, const char *end, const char *name)
{
    const char *a = strstr(p, name);
    return a != NULL && a < end ? a + strlen(name) : NULL;
}

/* The length of a point "x,y" starting at p (up to a space or quote). */
static size_t point_length(const char *p)
{
    size_t n = 0;
    while (p[n] != '\0' && p[n] != ' ' && p[n] != '\n' && p[n] != '"')
        n++;
    return n;
}

/*
 * 1 when the SVG holds an unfilled line of exactly `want` vertices. PLplot
 * writes a long line as several polylines of at most 256 vertices, each
 * starting where the one before it ended, in the same colour: those are
 * joined back into one line, counting the shared vertex once.
 */
static int has_line(const char *svg, size_t want)
{
    size_t chain = 0;
    const char *last_point = NULL, *last_stroke = NULL;
    size_t last_len = 0;
    for (const char *p = svg; (p = strstr(p, "<polyline")) != NULL; p++) {
        const char *end = strstr(p, "/>");
        if (end == NULL)
            break;
        const char *pts = attribute(p, end, "points=\"");
        const char *stroke = attribute(p, end, "stroke=\"");
        if (attribute(p, end, "fill-rule=") != NULL || pts == NULL || stroke == NULL)
            continue;
        while (*pts == ' ' || *pts == '\n')
            pts++;
        size_t n = 0;
        const char *final = pts;
        for (const char *q = pts; q < end && *q != '"'; q++)
            if (*q == ',') {
                n++;
                final = q;
            }
        while (final > pts && final[-1] != ' ' && final[-1] != '\n')
            final--;
        int continues = last_point != NULL && strncmp(stroke, last_stroke, 8) == 0 &&
                        point_length(pts) == last_len && strncmp(pts, last_point, last_len) == 0;
        if (!continues && chain == want) /* the line before this one has ended */
            return 1;
        chain = continues ? chain + n - 1 : n;
        last_point = final;
        last_len = point_length(final);
        last_stroke = stroke;
    }
    return chain == want;
}

/* The text of every <text> element, entities decoded, one per line. */
static char *svg_text(const char *svg)
{
    size_t cap = strlen(svg) + 1, n = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    for (const char *p = svg; (p = strstr(p, "<text")) != NULL;) {
        const char *end = strstr(p, "</text>");
        if (end == NULL)
            break;
        const char *q = strchr(p, '>');
        for (q = q ? q + 1 : end; q < end; q++) {
            if (*q == '<') { /* skip nested tags */
                while (q < end && *q != '>')
                    q++;
                continue;
            }
            unsigned long cp;
            int used = 0;
            if (sscanf(q, "&#x%lx;%n", &cp, &used) == 1 && used > 0) {
                q += used - 1;
                if (cp < 0x80) {
                    out[n++] = (char)cp;
                } else if (cp < 0x800) {
                    out[n++] = (char)(0xc0 | (cp >> 6));
                    out[n++] = (char)(0x80 | (cp & 0x3f));
                } else {
                    out[n++] = (char)(0xe0 | (cp >> 12));
                    out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    out[n++] = (char)(0x80 | (cp & 0x3f));
                }
            } else {
                out[n++] = *q;
            }
        }
        out[n++] = '\n';
        p = end + 7;
    }
    out[n] = '\0';
    return out;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(int argc, char **argv)
{
    size_t len = 0;
    int failed = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: figcheck FILE [--markers N] [--bars N] [--line N]... [--text S]... "
                        "[--png WxH] [--pdf]\n");
        return 2;
    }
    char *data = slurp(argv[1], &len);
    if (data == NULL) {
        printf("figcheck: cannot read '%s'\n", argv[1]);
        return 1;
    }
    char *text = NULL;
    for (int i = 2; i + 1 < argc || (i < argc && strcmp(argv[i], "--pdf") == 0); i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(opt, "--markers") == 0 || strcmp(opt, "--bars") == 0) {
            int markers = opt[2] == 'm';
            size_t want = strtoul(val, NULL, 10);
            size_t got = count_fills(data, markers ? MARKER_POINTS : BAR_POINTS, !markers);
            if (got != want) {
                printf("figcheck: %s: %zu %s drawn, expected %zu\n", argv[1], got,
                       markers ? "markers" : "bars", want);
                failed = 1;
            }
        } else if (strcmp(opt, "--line") == 0) {
            size_t want = strtoul(val, NULL, 10);
            if (!has_line(data, want)) {
                printf("figcheck: %s: no line of %zu points drawn\n", argv[1], want);
                failed = 1;
            }
        } else if (strcmp(opt, "--text") == 0) {
            if (text == NULL)
                text = svg_text(data);
            if (text == NULL || strstr(text, val) == NULL) {
                printf("figcheck: %s: no text '%s'\n", argv[1], val);
                failed = 1;
            }
        } else if (strcmp(opt, "--png") == 0) {
            unsigned w = 0, h = 0;
            const unsigned char *u = (const unsigned char *)data;
            sscanf(val, "%ux%u", &w, &h);
            if (len < 24 || memcmp(u, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp(u + 12, "IHDR", 4) != 0) {
                printf("figcheck: %s: not a PNG file\n", argv[1]);
                failed = 1;
            } else if (be32(u + 16) != w || be32(u + 20) != h) {
                printf("figcheck: %s: PNG is %ux%u, expected %ux%u\n", argv[1], be32(u + 16),
                       be32(u + 20), w, h);
                failed = 1;
            }
        } else if (strcmp(opt, "--pdf") == 0) {
            int eof = 0;
            for (size_t k = len > 1024 ? len - 1024 : 0; k + 5 <= len && !eof; k++)
                eof = memcmp(data + k, "%%EOF", 5) == 0;
            if (len < 8 || memcmp(data, "%PDF-", 5) != 0 || !eof) {
                printf("figcheck: %s: not a complete PDF file\n", argv[1]);
                failed = 1;
            }
            i--; /* a flag without a value */
        } else {
            printf("figcheck: unknown check '%s'\n", opt);
            failed = 1;
        }
    }
    free(text);
    free(data);
    return failed;
}
