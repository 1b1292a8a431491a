/**
 * Finds where a JSON text stops being valid JSON. `JSON.parse` says so only in some Node versions
 * (Node 20 quotes a snippet, not a position), and an error must name its line, so this small
 * recursive-descent checker walks RFC 8259 grammar and returns the offset of the first character
 * that cannot belong there. It is only called after `JSON.parse` has failed.
 */

/** Offset of the first invalid character, or undefined when the text is valid JSON. */
export function firstJsonErrorOffset(text: string): number | undefined {
  let pos = 0;
  const fail = (): never => {
    throw new JsonSyntaxAt(pos);
  };
  const ws = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos] ?? '')) pos++;
  };
  const expect = (c: string) => {
    if (text[pos] !== c) fail();
    pos++;
  };
  const string = () => {
    expect('"');
    while (pos < text.length && text[pos] !== '"') {
      const c = text.charCodeAt(pos);
      if (c < 0x20) fail();
      if (text[pos] === '\\') {
        pos++;
        const e = text[pos] ?? '';
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 1, pos + 5))) fail();
          pos += 4;
        } else if (!'"\\/bfnrt'.includes(e) || e === '') fail();
      }
      pos++;
    }
    expect('"');
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos));
    if (m === null) fail();
    pos += (m as RegExpExecArray)[0].length;
  };
  const literal = (word: string) => {
    if (!text.startsWith(word, pos)) fail();
    pos += word.length;
  };
  const value = (): void => {
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      ws();
      if (text[pos] === '}') {
        pos++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        expect(':');
        value();
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (c === '[') {
      pos++;
      ws();
      if (text[pos] === ']') {
        pos++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    return number();
  };
  try {
    value();
    ws();
    if (pos < text.length) fail();
    return undefined;
  } catch (err: unknown) {
    if (err instanceof JsonSyntaxAt) return err.offset;
    throw err;
  }
}

class JsonSyntaxAt extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at offset ${offset}`);
  }
}
