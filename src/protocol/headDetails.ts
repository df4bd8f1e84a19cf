/**
 * What the panel and hovers show beyond the CLI's JSON contract: per listed token its prior, byte
 * length, and the raw (un-normalized) score behind each normalized one.
 */
export interface ChipTokenInfo {
  /** Prior p(token). */
  p: number;
  /** Bytes of the token's string (undefined when it has none). */
  bytes?: number;
}

export interface KeyDetails {
  /** QK[q, BOS] for each listed query, in order: raw QK = normalized + this. */
  queryBaselines: number[];
  /** mean_o OV[k, o]: raw OV = normalized + this (0 where the path has no OV side). */
  ovRowMean: number;
  /** Where the key's own token ranks among its outputs (0 = it boosts itself most: copying); absent without an OV side. */
  selfOutputRank?: number;
  /** The most negative effects on logits (suppression), most negative first. */
  suppressed?: { id: number; token: string; score: number }[];
}

export interface HeadDetails {
  keys: KeyDetails[];
  tokens: Record<number, ChipTokenInfo>;
  /** The prior's source, e.g. "bundled (the model's training corpus)". */
  prior: string;
}

/** Hover: what one token does in one head (computed on demand, O(V·d_head)). */
export interface TokenInHead {
  layer: number;
  head: number;
  /** The token's rank as a key among all V tokens (core/keyRank.ts: 0 = the head's most important key);
   * absent when the head has not been analyzed in this session. */
  keyRank?: number;
  /** When many keys' importance bounds straddle the token's, the rank is known within [keyRank, keyRankMax]. */
  keyRankMax?: number;
  importance: number;
  topOutputs: { id: number; token: string; score: number }[];
  /** The keys this token most prefers as a query (by QKn[q, k]). */
  preferredKeys: { id: number; token: string; score: number }[];
}
