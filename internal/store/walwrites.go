package store

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite appends a commit to the write-ahead log one page at a time, each
// page in two writes (its 24-byte frame header, then the page), so a group
// of adds that touches fifty pages made a hundred pwrite calls, and on this
// kind of virtual machine each call costs a few microseconds whatever its
// size: a third of the writer's time. The writer's connection therefore
// opens its database through batchedWALVFS, SQLite's own unix VFS with one
// difference: the log's consecutive writes are gathered in memory and
// written with one call when the transaction's commit frame is complete, or
// before anything else touches the log (a read, a sync, its size, a
// truncation, closing it). What another connection can see is unchanged: a
// commit becomes visible only when the writer updates the shared index
// after its last frame is written, and that frame is now written by then,
// as before. Should the process die with frames gathered, they belong to a
// transaction that never committed, as if it had died writing them.
const batchedWALVFS = "gatehouse-batched-wal"

// walBufferSize bounds what is gathered before it is written: a chunk of a
// bulk invitation writes thousands of pages in one transaction.
const walBufferSize = 1 << 20

// walWriteMost is the most the unix VFS writes in one call: it keeps only a
// write's low 17 bits.
const walWriteMost = 1<<17 - 1

// walFrameHeaderSize is the size of a frame's header in the log; bytes 4 to
// 7 of a commit frame's header hold the database's size, zero otherwise.
const walFrameHeaderSize = 24

// walFile is how a log opened through batchedWALVFS begins, in the memory
// SQLite allocates for the file; the unix VFS's own file follows it, at
// walFileHeaderSize.
type walFile struct {
	methods     uintptr // sqlite3_file's pMethods: &walMethods
	buffer      uintptr // walBufferSize bytes from SQLite's allocator
	start       int64   // the log offset buffer[0] goes to
	length      int64   // bytes gathered
	commitFrame int32   // the next write completes a commit frame
	_           int32
}

const walFileHeaderSize = unsafe.Sizeof(walFile{})

// walWrites counts the writes the writer's logs made, for the tests.
var walWrites atomic.Int64

var (
	registerWALVFS sync.Once
	registerErr    error
	unixVFS        uintptr
	walVFS         sqlite3.Tsqlite3_vfs
	walMethods     sqlite3.Tsqlite3_io_methods
)

// registerBatchedWAL registers batchedWALVFS once per process.
func registerBatchedWAL() error {
	registerWALVFS.Do(func() {
		tls := libc.NewTLS() // kept: SQLite may call back through it for as long as the process runs
		unixVFS = sqlite3.Xsqlite3_vfs_find(tls, 0)
		if unixVFS == 0 {
			registerErr = fmt.Errorf("sqlite: no default VFS")
			return
		}
		walVFS = *(*sqlite3.Tsqlite3_vfs)(cPointer(unixVFS))
		walVFS.FpNext = 0
		walVFS.FszOsFile += int32(walFileHeaderSize)
		name, err := libc.CString(batchedWALVFS)
		if err != nil {
			registerErr = err
			return
		}
		walVFS.FzName = name
		*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&walVFS.FxOpen)) = walOpen

		walMethods.FiVersion = 1 // a log has no shared memory and is not mapped
		*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&walMethods.FxClose)) = walClose
		*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&walMethods.FxRead)) = walRead
		*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&walMethods.FxWrite)) = walWrite
		*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&walMethods.FxTruncate)) = walTruncate
		*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&walMethods.FxSync)) = walSync
		*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&walMethods.FxFileSize)) = walFileSize
		*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&walMethods.FxLock)) = walLock
		*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&walMethods.FxUnlock)) = walUnlock
		*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&walMethods.FxCheckReservedLock)) = walCheckReservedLock
		*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&walMethods.FxFileControl)) = walFileControl
		*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&walMethods.FxSectorSize)) = walSectorSize
		*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&walMethods.FxDeviceCharacteristics)) = walDeviceCharacteristics

		if rc := sqlite3.Xsqlite3_vfs_register(tls, uintptr(unsafe.Pointer(&walVFS)), 0); rc != sqlite3.SQLITE_OK {
			registerErr = fmt.Errorf("sqlite: registering the %s VFS: code %d", batchedWALVFS, rc)
		}
	})
	return registerErr
}

// cPointer turns an address in SQLite's memory, which Go's collector does
// not manage, into a pointer.
func cPointer(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

func walOf(pFile uintptr) *walFile { return (*walFile)(cPointer(pFile)) }

// inner is the unix VFS's own file inside f, and its methods.
func inner(pFile uintptr) (uintptr, *sqlite3.Tsqlite3_io_methods) {
	p := pFile + walFileHeaderSize
	return p, (*sqlite3.Tsqlite3_io_methods)(cPointer((*sqlite3.Tsqlite3_file)(cPointer(p)).FpMethods))
}

func walOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	unixOpen := *(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&(*sqlite3.Tsqlite3_vfs)(cPointer(unixVFS)).FxOpen))
	if flags&sqlite3.SQLITE_OPEN_WAL == 0 {
		// Every other file is the unix VFS's own, at the start of pFile.
		return unixOpen(tls, unixVFS, zName, pFile, flags, pOutFlags)
	}
	f := walOf(pFile)
	*f = walFile{}
	p := pFile + walFileHeaderSize
	rc := unixOpen(tls, unixVFS, zName, p, flags, pOutFlags)
	if (*sqlite3.Tsqlite3_file)(cPointer(p)).FpMethods == 0 {
		return rc // SQLite calls no method of a file whose methods are nil
	}
	f.methods = uintptr(unsafe.Pointer(&walMethods))
	if rc == sqlite3.SQLITE_OK {
		if f.buffer = libc.Xmalloc(tls, walBufferSize); f.buffer == 0 {
			return sqlite3.SQLITE_NOMEM // SQLite closes the file, which closes the inner one
		}
	}
	return rc
}

// flush writes what f gathered.
func flush(tls *libc.TLS, pFile uintptr) int32 {
	f := walOf(pFile)
	if f.length == 0 {
		return sqlite3.SQLITE_OK
	}
	n := f.length
	f.length = 0
	for done := int64(0); done < n; {
		piece := min(n-done, walWriteMost)
		if rc := innerWrite(tls, pFile, f.buffer+uintptr(done), int32(piece), f.start+done); rc != sqlite3.SQLITE_OK {
			return rc
		}
		done += piece
	}
	return sqlite3.SQLITE_OK
}

// innerWrite writes through the unix VFS's own file, counted in walWrites.
func innerWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	walWrites.Add(1)
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxWrite)))(tls, p, zBuf, iAmt, iOfst)
}

func walWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	f := walOf(pFile)
	if f.buffer == 0 || int64(iAmt) > walBufferSize {
		if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
		return innerWrite(tls, pFile, zBuf, iAmt, iOfst)
	}
	if f.length == 0 || iOfst != f.start+f.length || f.length+int64(iAmt) > walBufferSize {
		// Not the next bytes of the log (a frame written again, the log
		// started over) or no room: what came before is written first.
		if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
		f.start = iOfst
	}
	libc.Xmemcpy(tls, f.buffer+uintptr(f.length), zBuf, libc.Tsize_t(iAmt))
	f.length += int64(iAmt)
	if f.commitFrame != 0 {
		f.commitFrame = 0
		return flush(tls, pFile)
	}
	if iAmt == walFrameHeaderSize && *(*uint32)(cPointer(zBuf + 4)) != 0 {
		f.commitFrame = 1
	}
	return sqlite3.SQLITE_OK
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	f := walOf(pFile)
	rc := flush(tls, pFile)
	p, m := inner(pFile)
	if rc2 := (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxClose)))(tls, p); rc == sqlite3.SQLITE_OK {
		rc = rc2
	}
	if f.buffer != 0 {
		libc.Xfree(tls, f.buffer)
		f.buffer = 0
	}
	f.methods = 0
	return rc
}

func walRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&m.FxRead)))(tls, p, zBuf, iAmt, iOfst)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&m.FxTruncate)))(tls, p, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxSync)))(tls, p, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxFileSize)))(tls, p, pSize)
}

func walLock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxLock)))(tls, p, lock)
}

func walUnlock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&m.FxUnlock)))(tls, p, lock)
}

func walCheckReservedLock(tls *libc.TLS, pFile, pResOut uintptr) int32 {
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&m.FxCheckReservedLock)))(tls, p, pResOut)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&m.FxFileControl)))(tls, p, op, pArg)
}

func walSectorSize(tls *libc.TLS, pFile uintptr) int32 {
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxSectorSize)))(tls, p)
}

func walDeviceCharacteristics(tls *libc.TLS, pFile uintptr) int32 {
	p, m := inner(pFile)
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&m.FxDeviceCharacteristics)))(tls, p)
}
