/** A URL's origin, used as a circuit-breaker key; an unparsable URL is its own key (the request will fail anyway). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
