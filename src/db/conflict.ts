/**
 * A request that cannot be carried out as asked against the data as it stands (a change settled already, a
 * merge that would give one source two ids on one asset): the API answers 409 with the message.
 */
export class ConflictError extends Error {
  override readonly name: string = 'ConflictError';
}
