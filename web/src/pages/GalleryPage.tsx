import { useCallback } from "react";
import { errorMessage } from "../api/errors";
import { DropZone } from "../components/DropZone";
import { GalleryFilters } from "../components/GalleryFilters";
import { ImageGrid } from "../components/ImageGrid";
import { Spinner } from "../components/Spinner";
import { UploadList } from "../components/UploadList";
import { useImageList } from "../hooks/images";
import { useGalleryFilters } from "../hooks/useGalleryFilters";
import { useOnVisible } from "../hooks/useOnVisible";
import { useUploadQueue } from "../uploads/UploadsProvider";

export function GalleryPage() {
  const { queue } = useUploadQueue();
  const [filters, setFilters] = useGalleryFilters();
  const filtered = filters.tags.length > 0 || filters.q.trim() !== "";
  const list = useImageList(filters);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const sentinel = useOnVisible<HTMLDivElement>(loadMore);
  const images = list.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="gallery">
      <div className="page-head">
        <h1>Your images</h1>
      </div>
      <DropZone onFiles={(files) => queue.add(files)} />
      <UploadList />
      <GalleryFilters filters={filters} onChange={setFilters} />

      {list.isPending ? (
        <Spinner label="Loading your images…" block />
      ) : list.isError && images.length === 0 ? (
        <div className="notice" role="alert">
          <p>Your images could not be loaded: {errorMessage(list.error)}</p>
          <button type="button" className="button secondary" onClick={() => void list.refetch()}>
            Try again
          </button>
        </div>
      ) : images.length === 0 && filtered ? (
        <div className="empty">
          <h2>No images match</h2>
          <p className="muted">No image has every tag and word asked for.</p>
          <button type="button" className="button secondary" onClick={() => setFilters({ tags: [], q: "" })}>
            Show all images
          </button>
        </div>
      ) : images.length === 0 ? (
        <div className="empty">
          <svg viewBox="0 0 24 24" width="48" height="48" aria-hidden="true">
            <rect x="2.5" y="4.5" width="19" height="15" rx="3" fill="none" stroke="currentColor" strokeWidth="1.5" />
            <path d="M5 17l4.5-5 3.5 3.5 2.5-2.5L19 17" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" />
          </svg>
          <h2>No images yet</h2>
          <p className="muted">Upload a photo above: it appears here, and you can make any variant of it.</p>
        </div>
      ) : (
        <ImageGrid images={images} />
      )}

      <div ref={sentinel} className="sentinel">
        {hasNextPage && (
          <button type="button" className="button secondary" onClick={loadMore} disabled={isFetchingNextPage}>
            {isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        )}
        {list.isFetchNextPageError && (
          <p className="error" role="alert">
            {errorMessage(list.error)}
          </p>
        )}
      </div>
    </div>
  );
}
