/** Report exports: Markdown for notes, CSV for spreadsheets (JSON is the CLI's --json). */
import { headName } from "./heads";
import { HeadReport, TokenScore } from "./report";
import { fmt2 } from "./reportText";

/** Inline code that survives backticks in the token (a longer fence, CommonMark's rule). */
const mdCode = (s: string) => {
  const fence = "`".repeat(Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length)) + 1);
  return fence.length > 1 ? `${fence} ${s} ${fence}` : `\`${s}\``;
};

/** One head as Markdown. Queries and outputs are separate ranked lists: query #i and output #i are
 * unrelated, so they never share a table row. */
export function headReportMarkdown(r: HeadReport): string {
  // The model's name is model text too (a config's model_name): a code span, as tokens are.
  const out = [`## ${headName(r.layer, r.head)} (${mdCode(r.model)})`, "", `Execution provider: ${r.ep}; BOS id ${r.bos}.`, ""];
  const list = (items: TokenScore[]) => (items.length ? items.map((x, i) => `${i + 1}. ${mdCode(x.token)} ${fmt2(x.score)}`) : ["(none)"]);
  for (const k of r.keys) {
    out.push(
      `### Key ${mdCode(k.token)} (id ${k.id})`, // a code span: the token's markup stays text
      "",
      `importance ${k.importance.toPrecision(4)} · maxQK ${fmt2(k.maxQK)} · maxOV ${fmt2(k.maxOV)}`,
      "",
    );
    out.push("Queries that prefer key (ranked by QK·p(q)^0.1; score shown: QK):", "", ...list(k.queries), "");
    out.push("Effect on logits (ranked by OV; score shown: OV):", "", ...list(k.outputs), "");
  }
  return out.join("\n");
}

const csvField = (s: string | number) => {
  const t = String(s);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

/** One row per (key, query) and (key, output) pair. */
export function headReportsCsv(reports: HeadReport[]): string {
  const rows = [
    [
      "model",
      "layer",
      "head",
      "key_rank",
      "key_id",
      "key_token",
      "importance",
      "maxQK",
      "maxOV",
      "kind",
      "rank",
      "token_id",
      "token",
      "score",
    ],
  ];
  for (const r of reports) {
    r.keys.forEach((k, ki) => {
      const base = [r.model, r.layer, r.head, ki + 1, k.id, k.token, k.importance, k.maxQK, k.maxOV];
      k.queries.forEach((q, i) => rows.push([...base, "query", i + 1, q.id, q.token, q.score].map(String)));
      k.outputs.forEach((o, i) => rows.push([...base, "output", i + 1, o.id, o.token, o.score].map(String)));
    });
  }
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}
