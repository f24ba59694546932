// aedes-persistence-level ships no types; this is the one call bellhop makes.
declare module 'aedes-persistence-level' {
  const factory: (db: unknown) => unknown;
  export default factory;
}
