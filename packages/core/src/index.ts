// @tidemark/core — see README.md for what this package holds.
export {};
