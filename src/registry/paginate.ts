/**
 * The next page's URL from a `Link: </v2/_catalog?last=x&n=100>; rel="next"` header,
 * resolved against the current URL (the registry sends it relative), or undefined on the last page.
 */
export function nextPageUrl(linkHeader: string | string[] | undefined, current: URL): URL | undefined {
  const values = Array.isArray(linkHeader) ? linkHeader : linkHeader ? [linkHeader] : [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
      if (match && /\brel="?next"?/.test(match[2] ?? '')) {
        const next = new URL(match[1] ?? '', current);
        // Never follow a Link to another origin: credentials must not leak there.
        return next.origin === current.origin ? next : undefined;
      }
    }
  }
  return undefined;
}
