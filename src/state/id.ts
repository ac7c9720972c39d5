// Container ids become directory names: check them before they touch a path.
export const ID_PATTERN = /^[A-Za-z0-9_+.-]+$/;

export function isValidId(id: string): boolean {
  return id !== "" && id !== "." && id !== ".." && ID_PATTERN.test(id);
}
