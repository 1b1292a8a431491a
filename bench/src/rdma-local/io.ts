/** Where CLI commands write, injectable so tests can read what a person would see. */
export interface CommandIo {
  /** Results (stdout). */
  readonly out: (text: string) => void;
  /** Progress, warnings and errors (stderr). */
  readonly err: (text: string) => void;
}

export const processIo: CommandIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};
