/*
 * figcheck.c - checks what a drawn figure really contains, for the plot
 * tests: the number of point markers and bars in an SVG (PLplot's svg
 * device writes each filled shape as a polyline with a fill-rule), whether
 * it holds a line of exactly N vertices, the text of its labels, the size of
 * a PNG from its IHDR chunk, and a PDF's header. --layout measures every
 * label of an SVG (its characters' advances in the font the page is drawn in,
 * placed by the SVG's own transforms) and fails when two labels overlap or
 * one leaves the page.
 *
 * usage: figcheck FILE [--markers N] [--bars N] [--line N]... [--text STRING]... [--png WxH] [--pdf]
 *                      [--layout]
 * Exits 0 when every check holds, 1 with a line per failed check otherwise.
 */
#include <math.h>
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

/* ---- --layout: no two labels overlap, every label on the page --------- */

/* A glyph's advance in DejaVu Sans (the sans-serif of Debian's fontconfig),
 * in font sizes, from the font's own metrics (units of 1/2048 em). */
static double glyph_em(unsigned c)
{
    static const short ascii[95] = {
        651,  821,  942,  1716, 1303, 1946, 1597, 563,  799,  799,  1024, 1716, 651,  739,
        651,  690,  1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 690,  690,
        1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604,
        604,  1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025,
        1403, 1251, 1403, 799,  690,  799,  1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260,
        721,  1300, 1298, 569,  569,  1186, 569,  1995, 1298, 1253, 1300, 1300, 842,  1067,
        803,  1298, 1212, 1675, 1212, 1212, 1075, 1303, 690,  1303, 1716};
    if (c >= 32 && c < 127)
        return ascii[c - 32] / 2048.0;
    return c == 0xb2 ? 0.401 : 0.75; /* superscript two; others: a wide guess */
}

typedef struct box {
    double x0, y0, x1, y1;
    char text[96];
} box;

/* The next code point of UTF-8 or of an XML character reference at *p. */
static unsigned next_char(const char **p)
{
    const unsigned char *s = (const unsigned char *)*p;
    unsigned c;
    if (s[0] == '&' && s[1] == '#') {
        int hex = s[2] == 'x';
        c = (unsigned)strtoul((const char *)s + 2 + hex, NULL, hex ? 16 : 10);
        *p = strchr(*p, ';') + 1;
        return c;
    }
    int n = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    c = n == 1 ? s[0] : s[0] & (0x3f >> (n - 1));
    for (int k = 1; k < n; k++)
        c = c << 6 | (s[k] & 0x3f);
    *p += n;
    return c;
}

static double attr_num(const char *p, const char *end, const char *name, double dflt)
{
    const char *a = attribute(p, end, name);
    return a != NULL ? strtod(a, NULL) : dflt;
}

/* Every <text> of a PLplot SVG as a page box: the text's advance along its
 * baseline, from 0.78 of its size above to 0.24 below, through its matrix and
 * the page's y flip. @return the count, boxes in *out (malloc'd) */
static size_t text_boxes(const char *svg, double page_h, box **out)
{
    size_t n = 0, cap = 64;
    box *b = malloc(cap * sizeof *b);
    for (const char *p = svg; b != NULL && (p = strstr(p, "<text")) != NULL; p++) {
        const char *head = strchr(p, '>'), *end = strstr(p, "</text>");
        if (head == NULL || end == NULL)
            break;
        double size = attr_num(p, head, "font-size=\"", 0), m[6] = {1, 0, 0, 1, 0, 0};
        double x = attr_num(p, head, " x=\"", 0), y = attr_num(p, head, " y=\"", 0);
        const char *t = attribute(p, head, "transform=\"matrix(");
        if (t != NULL)
            sscanf(t, "%lf %lf %lf %lf %lf %lf", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
        const char *anchor = attribute(p, head, "text-anchor=\"");
        /* The characters, at the size and baseline shift of their tspan. */
        double sizes[8] = {size}, shift[8] = {0}, w = 0, top = 0, bottom = 0;
        int depth = 0;
        size_t nt = 0;
        char text[96];
        for (const char *q = head + 1; q < end;) {
            if (strncmp(q, "<tspan", 6) == 0) {
                const char *te = strchr(q, '>');
                if (depth < 7) {
                    depth++;
                    sizes[depth] = attr_num(q, te, "font-size=\"", sizes[depth - 1]);
                    shift[depth] = shift[depth - 1] + attr_num(q, te, "dy=\"", 0);
                }
                q = te + 1;
            } else if (strncmp(q, "</tspan>", 8) == 0) {
                depth -= depth > 0;
                q += 8;
            } else {
                unsigned c = next_char(&q);
                w += glyph_em(c) * sizes[depth];
                top = fmin(top, shift[depth] - 0.78 * sizes[depth]);
                bottom = fmax(bottom, shift[depth] + 0.24 * sizes[depth]);
                if (nt + 5 < sizeof text) /* kept as UTF-8 for the messages */
                    nt += c < 0x80    ? (size_t)(text[nt] = (char)c, 1)
                          : c < 0x800 ? (size_t)(text[nt] = (char)(0xc0 | c >> 6),
                                                 text[nt + 1] = (char)(0x80 | (c & 0x3f)), 2)
                                      : (size_t)(text[nt] = (char)(0xe0 | c >> 12),
                                                 text[nt + 1] = (char)(0x80 | (c >> 6 & 0x3f)),
                                                 text[nt + 2] = (char)(0x80 | (c & 0x3f)), 3);
            }
        }
        text[nt] = '\0';
        double x0 = x - (anchor && strncmp(anchor, "middle", 6) == 0 ? w / 2
                         : anchor && strncmp(anchor, "end", 3) == 0  ? w
                                                                      : 0);
        double lx[2] = {x0, x0 + w}, ly[2] = {y + top, y + bottom};
        box bb = {INFINITY, INFINITY, -INFINITY, -INFINITY, ""};
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                double px = m[0] * lx[i] + m[2] * ly[j] + m[4];
                double py = page_h - (m[1] * lx[i] + m[3] * ly[j] + m[5]);
                bb.x0 = fmin(bb.x0, px), bb.x1 = fmax(bb.x1, px);
                bb.y0 = fmin(bb.y0, py), bb.y1 = fmax(bb.y1, py);
            }
        snprintf(bb.text, sizeof bb.text, "%s", text);
        if (w <= 0)
            continue;
        if (n == cap) {
            box *grown = realloc(b, 2 * cap * sizeof *b);
            if (grown == NULL)
                break;
            b = grown, cap *= 2;
        }
        b[n++] = bb;
    }
    *out = b;
    return n;
}

/* Text boxes that overlap (by more than 1 px each way) or leave the page. */
static int check_layout(const char *path, const char *svg)
{
    const char *vb = strstr(svg, "viewBox=\"");
    double w = 0, h = 0;
    if (vb == NULL || sscanf(vb + 9, "%*f %*f %lf %lf", &w, &h) != 2 || strstr(svg, "matrix(1 0 0 -1 0 ") == NULL) {
        printf("figcheck: %s: not a PLplot SVG page\n", path);
        return 1;
    }
    box *b = NULL;
    size_t n = text_boxes(svg, h, &b);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i].x0 < -1 || b[i].y0 < -1 || b[i].x1 > w + 1 || b[i].y1 > h + 1) {
            printf("figcheck: %s: '%s' leaves the %gx%g page (%.0f,%.0f to %.0f,%.0f)\n", path,
                   b[i].text, w, h, b[i].x0, b[i].y0, b[i].x1, b[i].y1);
            bad = 1;
        }
        for (size_t j = i + 1; j < n; j++)
            if (fmin(b[i].x1, b[j].x1) - fmax(b[i].x0, b[j].x0) > 1 &&
                fmin(b[i].y1, b[j].y1) - fmax(b[i].y0, b[j].y0) > 1) {
                printf("figcheck: %s: '%s' (%.0f,%.0f to %.0f,%.0f) overlaps '%s' (%.0f,%.0f to "
                       "%.0f,%.0f)\n", path, b[i].text, b[i].x0, b[i].y0, b[i].x1, b[i].y1,
                       b[j].text, b[j].x0, b[j].y0, b[j].x1, b[j].y1);
                bad = 1;
            }
    }
    if (n == 0) {
        printf("figcheck: %s: no text\n", path);
        bad = 1;
    }
    free(b);
    return bad;
}

int main(int argc, char **argv)
{
    size_t len = 0;
    int failed = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: figcheck FILE [--markers N] [--bars N] [--line N]... [--text S]... "
                        "[--png WxH] [--pdf] [--layout]\n");
        return 2;
    }
    char *data = slurp(argv[1], &len);
    if (data == NULL) {
        printf("figcheck: cannot read '%s'\n", argv[1]);
        return 1;
    }
    char *text = NULL;
    for (int i = 2; i + 1 < argc || (i < argc && (strcmp(argv[i], "--pdf") == 0 ||
                                                  strcmp(argv[i], "--layout") == 0));
         i += 2) {
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
        } else if (strcmp(opt, "--layout") == 0) {
            failed |= check_layout(argv[1], data);
            i--; /* a flag without a value */
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
