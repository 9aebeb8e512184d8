// @tidemark/runtime — see README.md for what this package holds.
export {};
