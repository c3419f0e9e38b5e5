/**
 * Reads `<script type="application/ld+json">` blocks: each block's entities
 * (top level, `@graph` members, `mainEntity`) go to the schema.org reader.
 */
import type { EntityFields } from "./schema-entity.js";

/**
 * Parses one JSON-LD block into `into`. Invalid JSON is ignored: broken
 * structured data is common and must not fail the page.
 */
export function readJsonLd(source: string, into: EntityFields): void {
  let doc: unknown;
  try {
    // Some sites wrap the block in an HTML comment or CDATA; JSON.parse would refuse it.
    doc = JSON.parse(source.replace(/^\s*(?:<!--|<!\[CDATA\[)/, "").replace(/(?:-->|\]\]>)\s*$/, ""));
  } catch {
    // Malformed JSON-LD carries nothing we can read exactly.
    return;
  }
  into.add(doc);
}
