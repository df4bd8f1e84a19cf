/** Seeded randomness for reproducible test and benchmark models (shared with the engine). */
export { mulberry32, gaussianFiller } from "../../src/core/random";
