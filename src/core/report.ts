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
  maxQK: number;
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
