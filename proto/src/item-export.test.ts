import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ItemSchema } from "./gen/trawl/v1/scraper_pb.js";
import { itemExportEncoding, itemJson, type ItemExportFormat, type ItemRecord } from "./item-json.js";

/** Items as jobs.items hands them out: itemJson of the stored Item, through JSON on the wire. */
const records: ItemRecord[] = [
  create(ItemSchema, { id: "a", url: "http://x/a", title: 'Say "hi", world', wordCount: 3, linksFound: 1, depth: 0 }),
  create(ItemSchema, { id: "b", url: "http://x/b?q=1,2", text: "line one\nline two", wordCount: 4, depth: 1, likes: 7n }),
].map((item) => JSON.parse(JSON.stringify(itemJson(item))) as ItemRecord);

function encode(format: ItemExportFormat, items: readonly ItemRecord[]): string {
  const encoding = itemExportEncoding(format);
  return encoding.begin + items.map((item, i) => encoding.item(item, i)).join("") + encoding.end;
}

describe("itemExportEncoding", () => {
  it("writes JSON as an array with one item per line, like the REST export", () => {
    expect(encode("json", records)).toBe(`[\n${JSON.stringify(records[0])},\n${JSON.stringify(records[1])}\n]\n`);
    expect(JSON.parse(encode("json", records))).toEqual(records);
  });

  it("writes an empty JSON export as an empty array", () => {
    expect(encode("json", [])).toBe("[\n]\n");
    expect(JSON.parse(encode("json", []))).toEqual([]);
  });

  it("writes NDJSON, one item a line", () => {
    expect(encode("ndjson", records)).toBe(`${JSON.stringify(records[0])}\n${JSON.stringify(records[1])}\n`);
    expect(encode("ndjson", [])).toBe("");
  });

  it("writes CSV with the shared header, RFC 4180 quoting and CRLF records", () => {
    const csv = encode("csv", records);
    const [header] = csv.split("\r\n");
    expect(header?.startsWith("id,url,canonical_url,title,")).toBe(true);
    expect(csv).toContain('a,http://x/a,,"Say ""hi"", world",,,3,1,0,');
    expect(csv).toContain('b,"http://x/b?q=1,2",,,,"line one\nline two",4,0,1,,,,7,');
    expect(csv.endsWith("\r\n")).toBe(true);
    expect(encode("csv", [])).toBe(`${header}\r\n`);
  });

  it("keeps the field order of itemJson, which the wire preserves", () => {
    expect(Object.keys(records[1] ?? {})).toEqual(["id", "url", "word_count", "links_found", "depth", "text", "likes"]);
  });
});
