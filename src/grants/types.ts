/** A grant file's content, as written in `grants/*.yaml`. */
export interface GrantFile {
  requester: string;
  resource: string;
  role: string;
  duration: string;
  reason: string;
  ticket?: string;
  emergency?: boolean;
}

/** A grant that passed schema and policy validation. */
export interface Grant extends GrantFile {
  /** The grant's id: its repository-relative path. */
  path: string;
  /** The parsed duration in milliseconds. */
  durationMs: number;
  emergency: boolean;
}
