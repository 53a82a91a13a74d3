// The first connection of a joined console, shown while it is made (components/Connecting.tsx):
// `q`/`esc` or ctrl-c leave at once; the RemoteStore gives up by itself after its bound.
import React from 'react';
import { render } from 'ink';
import { Connecting } from '../../../components/Connecting.js';
import { LeftError, type RemoteStore } from '../../warroom/client.js';
import { UserError, messageOf } from '../errors.js';
import { INK_OPTIONS } from '../screen.js';

/** Starts `store`, showing the attempt; null once connected, or how the person left. A failure
 * (refused, nothing there within the bound) is a UserError with what was tried. */
export async function connectShowing(store: RemoteStore, explain: (message: string) => string = (m) => m): Promise<null | 'q' | 'ctrl-c'> {
  let how: 'q' | 'ctrl-c' | null = null;
  const ink = render(
    <Connecting
      source={store}
      onLeave={(h) => {
        how = h;
        store.close();
      }}
    />,
    { ...INK_OPTIONS, exitOnCtrlC: false },
  );
  try {
    await store.start();
    return null;
  } catch (err) {
    store.close();
    if (err instanceof LeftError) return how ?? 'q';
    throw new UserError(explain(messageOf(err)));
  } finally {
    ink.clear();
    ink.unmount();
  }
}
