/**
 * Read-only access to a sysfs tree. Discovery reads the host only through this port, with one
 * implementation (`FsSysfsReader`) for the real `/sys` and for a simulated tree alike: the
 * simulator is never a shortcut for discovery.
 *
 * Paths are relative to the root and use `/` (`bus/pci/devices/0000:1a:00.0/vendor`); a path that
 * is absolute or has a `..` component is refused (answered as "no value"). Every read error
 * (ENOENT, EINVAL from a kernel attribute, EACCES, ...) is answered as "no value", never thrown:
 * real sysfs has attributes that fail to read (reference §0.5).
 */
export interface SysfsReader {
  /** Absolute path of the root (`/sys`, `/host/sys`, `<dir>/sys`). */
  readonly root: string;
  /** `cat <root>/<path>` without its trailing newline; undefined on any error. */
  read(path: string): Promise<string | undefined>;
  /** `readlink <root>/<path>`: the link text as stored; undefined when not a link or on error. */
  readLink(path: string): Promise<string | undefined>;
  /**
   * `realpath <root>/<path>`, returned relative to the root's own realpath
   * (`devices/pci0000:15/0000:15:01.0/...`); undefined when it leaves the root or on error.
   */
  realPath(path: string): Promise<string | undefined>;
  /** `ls <root>/<path>` (names, sorted); [] on error. */
  list(path: string): Promise<string[]>;
  /** `test -e <root>/<path>` (follows links). */
  exists(path: string): Promise<boolean>;
}
