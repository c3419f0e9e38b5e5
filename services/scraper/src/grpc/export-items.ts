/**
 * ExportItems: a job's stored items encoded as one JSON array, NDJSON or
 * CSV, written in chunks of about 64 KiB, waiting for 'drain' whenever the
 * stream's buffer is full.
 */
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { ExportFormat, ExportItemsResponseSchema, itemExportEncoding, itemJson, type ExportItemsRequest, type ExportItemsResponse, type Item, type ItemExportFormat } from "@trawl/proto";

/** Bytes gathered before a chunk is written. */
export const EXPORT_CHUNK_BYTES = 64 * 1024;

const FORMAT_NAMES: Partial<Record<ExportFormat, ItemExportFormat>> = {
  [ExportFormat.JSON]: "json",
  [ExportFormat.NDJSON]: "ndjson",
  [ExportFormat.CSV]: "csv",
};

/** The shared item encoding of `format`, over stored Items; undefined for an unknown format. */
export function exportEncoding(format: ExportFormat): Encoding | undefined {
  const name = FORMAT_NAMES[format];
  if (name === undefined) return undefined;
  const records = itemExportEncoding(name);
  return { begin: records.begin, item: (item, index) => records.item(itemJson(item), index), end: records.end };
}

/** What comes first, each stored item, what comes last. */
interface Encoding {
  begin: string;
  item(item: Item, index: number): string;
  end: string;
}

type ExportCall = grpc.ServerWritableStream<ExportItemsRequest, ExportItemsResponse>;

/** Resolves once the call can take more, or when it ends (false). */
function drained(call: ExportCall): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      call.off("drain", onDrain);
      call.off("cancelled", onGone);
      call.off("close", onGone);
      resolve(ok);
    };
    const onDrain = done(true);
    const onGone = done(false);
    call.once("drain", onDrain);
    call.once("cancelled", onGone);
    call.once("close", onGone);
  });
}

/** Writes every item of `items` to the call in `encoding`, then ends it. Stops early when the client goes away. */
export async function writeExport(call: ExportCall, items: AsyncIterable<Item>, encoding: Encoding): Promise<void> {
  let pending = encoding.begin;
  let gone = false;
  call.once("cancelled", () => {
    gone = true;
  });
  const send = async (): Promise<void> => {
    if (pending === "") return;
    const data = Buffer.from(pending, "utf8");
    pending = "";
    if (!call.write(create(ExportItemsResponseSchema, { data })) && !(await drained(call))) gone = true;
  };
  let index = 0;
  for await (const item of items) {
    if (gone) return;
    pending += encoding.item(item, index++);
    if (pending.length >= EXPORT_CHUNK_BYTES) await send();
  }
  if (gone) return;
  pending += encoding.end;
  await send();
  if (!gone) call.end();
}
