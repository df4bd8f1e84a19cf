/** What `run` and `explain` run the model on: --text "…" or --tokens ID,ID,… (exactly one). */
import { AttentionInput } from "../../protocol/attention";
import { Taker, UsageError } from "./options";

export class InputChoice {
  private input?: AttentionInput;
  private both = false;

  /** Takes --text or --tokens; false for any other flag. */
  take(flag: string, take: Taker): boolean {
    if (flag !== "--text" && flag !== "--tokens") return false;
    this.both ||= this.input !== undefined;
    if (flag === "--text") {
      this.input = { text: take.value() };
      return true;
    }
    const v = take.value();
    const parts = v
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    if (!parts.length || parts.some((x) => !/^\d+$/.test(x)))
      throw new UsageError(`--tokens must be comma-separated token ids such as 50256,464,3290 (got "${v}")`);
    this.input = { tokens: parts.map(Number) };
    return true;
  }

  chosen(): AttentionInput {
    if (!this.input || this.both) throw new UsageError('say what to run on: --text "…" or --tokens ID,ID,… (one of them)');
    return this.input;
  }
}
