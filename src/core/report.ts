/** Report types: exactly the CLI's `--json` contract. */
export interface TokenScore {
  id: number;
  token: string;
  score: number;
}

export interface KeyReport {
  id: number;
  token: string;
  importance: number;
  /** NaN (null in JSON) where the path has no QK side (v paths). */
  maxQK: number;
  /** NaN (null in JSON) where the path has no OV side (k paths). */
  maxOV: number;
  queries: TokenScore[];
  outputs: TokenScore[];
}

export interface HeadReport {
  model: string;
  layer: number;
  head: number;
  bos: number;
  ep: string;
  keys: KeyReport[];
  /** A composition path: the circuit through an earlier head (absent for the direct path). */
  via?: PathRef;
  /** k and q paths: where each row's own token ranks among its keys (the induction signature). */
  diagonal?: DiagonalStats;
}

/** Which circuit of head (l, h) passes through head (via.layer, via.head): its keys (k), queries (q) or values (v). */
export type PathType = "k" | "q" | "v";
export interface PathRef {
  layer: number;
  head: number;
  type: PathType;
}

/**
 * With rank_r = #{c : QK[r, c] > QK[r, r]} over all V rows r (0 = a token's own token is its best key):
 * the median (lower median) rank, and the shares with rank 0 and rank < 10.
 */
export interface DiagonalStats {
  medianRank: number;
  top1: number;
  top10: number;
}

export interface ModelReport {
  model: string;
  ep: string;
  heads: HeadReport[];
}

export interface ReportSizes {
  nKeys: number;
  nQueries: number;
  nOutputs: number;
}

export const DEFAULT_SIZES: ReportSizes = { nKeys: 5, nQueries: 20, nOutputs: 20 };
