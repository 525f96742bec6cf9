/** The output formats of the contract, in the order `--help` lists them. */
export const FORMATS: readonly string[] = ['stylish', 'json', 'sarif', 'github', 'compact', 'junit'];
